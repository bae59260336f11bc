import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { STORIES260K, runCli } from "../train/testing/train-fixtures.js";

/** `tunekit generate` needs no workspace: the real worker on CPU, the real stories260k model. */
describe("tunekit generate", () => {
  it("generate reproduces EXPECTED.json's greedy continuation of 'Once upon a time'", async () => {
    const expected = JSON.parse(readFileSync(join(STORIES260K, "EXPECTED.json"), "utf8")).prompts.find((p: { prompt: string }) => p.prompt === "Once upon a time");
    const r = await runCli(["--json", "generate", "--model", STORIES260K, "--prompt", "Once upon a time", "--max-new-tokens", "64"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.promptIds).toEqual(expected.input_ids);
    expect(out.ids).toEqual(expected.continuation_ids);
    expect(out.text).toBe(expected.continuation_text);
    expect(out.finishReason).toBe("length");
  });

  it("explains a missing model folder", async () => {
    const r = await runCli(["generate", "--model", "/nonexistent/model", "--prompt", "hi"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("CLI_MODEL_NOT_FOUND");
  });
});
