import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, runCliJson } from "../../test-support/cli.js";
import { makeTempDir, STORIES260K } from "../../test-support/paths.js";

const MODEL_FIX = "pass --model a Hugging Face model folder holding tokenizer.json (the base model you will fine-tune, e.g. --model ./models/base), an OpenAI model name (--model gpt-4o-mini), or --encoding o200k_base";

function tinyDataset(): string {
  const dir = makeTempDir();
  writeFileSync(join(dir, "tiny.jsonl"), [
    '{"messages":[{"role":"user","content":"Once upon a time"},{"role":"assistant","content":"there was a little girl named Lily."}]}',
    '{"text":"The cat sat on the mat."}',
    "",
  ].join("\n"));
  return dir;
}

describe("tunekit data stats --model (CLI)", () => {
  it("counts tokens with a model folder's tokenizer.json, as the README shows (--model DIR)", async () => {
    const dir = tinyDataset();
    const res = await runCliJson(dir, "data", "stats", "tiny.jsonl", "--model", STORIES260K, "--no-pii", "--no-duplicates");
    expect(res.code).toBe(0);
    const s = res.json.stats;
    expect({
      tokenizer: s.tokenizer,
      contextLimit: s.contextLimit,
      tokens: Object.fromEntries(Object.entries(s.tokensByRole as Record<string, { total: number }>).map(([role, d]) => [role, d.total])),
    }).toEqual({ tokenizer: { name: "stories260k (tokenizer.json)", estimate: false }, contextLimit: 512, tokens: { user: 4, assistant: 10, text: 10 } });
  }, 120_000);

  it("says the folder has no tokenizer.json, with a CLI fix (TOKENIZE_TOKENIZER_MISSING)", () => {
    const dir = tinyDataset();
    mkdirSync(join(dir, "empty-model"));
    const res = runCli(["data", "stats", "tiny.jsonl", "--model", "./empty-model"], { cwd: dir });
    expect({ status: res.status, stderr: res.stderr }).toEqual({
      status: 5,
      stderr: `error TOKENIZE_TOKENIZER_MISSING: --model ./empty-model: the folder has no tokenizer.json, so its tokens cannot be counted\n  fix: ${MODEL_FIX}\n`,
    });
  }, 120_000);

  it("says a name is neither a folder nor a known model, with a CLI fix (TOKENIZE_UNKNOWN_MODEL)", () => {
    const res = runCli(["data", "stats", "tiny.jsonl", "--model", "llama-7b"], { cwd: tinyDataset() });
    expect({ status: res.status, stderr: res.stderr }).toEqual({
      status: 2,
      stderr: `error TOKENIZE_UNKNOWN_MODEL: --model llama-7b is neither a model folder nor a model with a known tokenizer\n  fix: ${MODEL_FIX}\n`,
    });
  }, 120_000);
});
