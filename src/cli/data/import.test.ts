import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../test-support/cli.js";
import { makeTempDir } from "../../test-support/paths.js";

describe("tunekit data import (CLI)", () => {
  it("names the rejected line and its fix when nothing could be imported (an unbalanced quote)", () => {
    const dir = makeTempDir();
    expect(runCli(["init"], { cwd: dir }).status).toBe(0);
    const file = join(dir, "tickets.csv");
    writeFileSync(file, 'text,category\n"I am still waiting on my card,card_arrival\nwhere is it?,card_arrival\n');
    const res = runCli(["data", "import", file, "--name", "tickets", "--map", "user=text,assistant=category"], { cwd: dir });
    expect({ status: res.status, stdout: res.stdout, error: res.stderr.split("\n").slice(1) }).toEqual({
      status: 4,
      stdout: "",
      error: [
        `error DATA_EMPTY_VERSION: import produced no valid records for dataset "tickets"; nothing was written: every line was rejected; ${file} line 2: a quoted field opens here and is never closed, so lines 2–3 could not be read as rows`,
        '  fix: close the quote on line 2, or double a quote that belongs to the text (""); if the file was cut off, export it again',
        "",
      ],
    });
  }, 120_000);
});
