import { describe, expect, it } from "vitest";
import { isTunekitError } from "../errors/index.js";
import { runCli } from "../test-support/cli.js";
import { makeTempDir } from "../test-support/paths.js";
import { parseIntegerFlag } from "./parse-flags.js";

const failure = (value: string, flag: string, range?: { min?: number; max?: number }) => {
  try {
    parseIntegerFlag(value, flag, range);
  } catch (error) {
    if (isTunekitError(error)) return { kind: error.kind, code: error.code, message: error.message, fix: error.fix };
    throw error;
  }
  throw new Error(`${flag} ${value} was accepted`);
};

describe("parseIntegerFlag", () => {
  it("parses whole numbers in range, with a sign or surrounding spaces, and passes undefined through", () => {
    expect([parseIntegerFlag("12", "--n"), parseIntegerFlag(" +3 ", "--n"), parseIntegerFlag("-2", "--n", { min: -5 }), parseIntegerFlag(undefined, "--n")]).toEqual([12, 3, -2, undefined]);
  });

  it("rejects text that is not a number", () => {
    expect(failure("ten", "--limit", { min: 1 })).toEqual({ kind: "usage", code: "CLI_INTEGER_FLAG_INVALID", message: '--limit must be a whole number ≥ 1, got "ten"', fix: "pass e.g. --limit 1" });
  });

  it("rejects a fraction", () => {
    expect(failure("1.5", "--seq-len", { min: 2 })).toEqual({ kind: "usage", code: "CLI_INTEGER_FLAG_INVALID", message: '--seq-len must be a whole number ≥ 2, got "1.5"', fix: "pass e.g. --seq-len 2" });
  });

  // Regression (issue #15): the old parsers used Number(), which reads "" as 0, "1e3" as 1000 and "0x10" as 16.
  it("rejects an empty value, exponent and hex forms that Number() would have accepted", () => {
    expect(["", "1e3", "0x10", "1.0"].map((v) => failure(v, "--after").code)).toEqual(Array(4).fill("CLI_INTEGER_FLAG_INVALID"));
  });

  it("rejects a value below the minimum", () => {
    expect(failure("0", "-n", { min: 1 }).message).toBe('-n must be a whole number ≥ 1, got "0"');
  });

  it("rejects a value above the maximum", () => {
    expect(failure("70000", "--port", { max: 65535 })).toEqual({ kind: "usage", code: "CLI_INTEGER_FLAG_INVALID", message: '--port must be a whole number from 0 to 65535, got "70000"', fix: "pass e.g. --port 1" });
  });

  it("rejects an integer too large to hold exactly", () => {
    expect(failure("9007199254740993", "--seed").code).toBe("CLI_INTEGER_FLAG_INVALID");
  });
});

// Regression (issue #15): these three flags failed with three codes (CLI_BAD_OPTION, TOKENIZE_FLAG_INVALID,
// DATA_FLAG_INVALID); every integer flag now fails the same way.
describe("integer flags across commands", () => {
  it("fail with one code and the usage exit status", () => {
    const cwd = makeTempDir();
    const first = (args: string[]) => {
      const res = runCli(args, { cwd });
      return [res.status, res.stderr.split("\n")[0]];
    };
    expect([
      first(["runs", "list", "--limit", "x"]),
      first(["data", "preview", "d", "--model", cwd, "-n", "0"]),
      first(["data", "validate", "d", "--max-issues", "-1"]),
    ]).toEqual([
      [2, 'error CLI_INTEGER_FLAG_INVALID: --limit must be a whole number ≥ 1, got "x"'],
      [2, 'error CLI_INTEGER_FLAG_INVALID: -n must be a whole number ≥ 1, got "0"'],
      [2, 'error CLI_INTEGER_FLAG_INVALID: --max-issues must be a whole number ≥ 0, got "-1"'],
    ]);
  });
});
