import { mkdtempSync, writeFileSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer as JsTokenizer } from "@huggingface/tokenizers";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadTokenizer } from "./load-tokenizer.js";
import { FIXED_STRINGS, MODEL_DIRS, QWEN3_DIR, STORIES_DIR } from "./testing/models.js";
// expected-ids.json was generated ONCE by src/tokenize/testing/generate-expected-ids.ts with the official Rust
// `tokenizers` core (npm binding, the same core as Python `tokenizers`) and committed; never regenerate it to
// make this test pass.
import expected from "./expected-ids.json" with { type: "json" };

const EXPECTED = expected as Record<string, { text: string; ids: number[]; idsWithSpecial: number[] }[]>;

describe("loadTokenizer: exact ids against the committed reference", () => {
  for (const [name, dir] of Object.entries(MODEL_DIRS)) {
    it(`${name}: every fixed string, with and without special tokens`, async () => {
      const tokenizer = loadTokenizer(dir);
      const cases = EXPECTED[name];
      expect(cases.map((c) => c.text)).toEqual(FIXED_STRINGS);
      const plain = await tokenizer.encodeBatch(FIXED_STRINGS);
      const special = await Promise.all(FIXED_STRINGS.map((s) => tokenizer.encode(s, { addSpecialTokens: true })));
      expect(plain).toEqual(cases.map((c) => c.ids));
      expect(special).toEqual(cases.map((c) => c.idsWithSpecial));
    });
  }

  it("an independent implementation (@huggingface/tokenizers, pure JS) agrees on the Qwen3 ids", () => {
    const js = new JsTokenizer(JSON.parse(readFileSync(`${QWEN3_DIR}/tokenizer.json`, "utf8")), JSON.parse(readFileSync(`${QWEN3_DIR}/tokenizer_config.json`, "utf8")));
    expect(FIXED_STRINGS.map((s) => js.encode(s, { add_special_tokens: false }).ids)).toEqual(EXPECTED.qwen3.map((c) => c.ids));
  });
});

describe("loadTokenizer: properties", () => {
  it("reads special ids from tokenizer_config.json and generation_config.json", () => {
    const qwen = loadTokenizer(MODEL_DIRS.qwen3);
    expect({ bos: qwen.bosId, eos: qwen.eosId, eosIds: qwen.eosIds, pad: qwen.padId, vocab: qwen.vocabSize }).toEqual({
      bos: null, eos: 151645, eosIds: [151645], pad: 151643, vocab: 151669,
    });
    const llama = loadTokenizer(MODEL_DIRS.llama3);
    expect({ bos: llama.bosId, eos: llama.eosId, eosIds: llama.eosIds, pad: llama.padId }).toEqual({ bos: 128000, eos: 128001, eosIds: [128001, 128009], pad: 128001 });
    const stories = loadTokenizer(STORIES_DIR);
    expect({ bos: stories.bosId, eos: stories.eosId, pad: stories.padId, vocab: stories.vocabSize, special: stories.specialTokens }).toEqual({
      bos: 1, eos: 2, pad: 2, vocab: 512, special: { "<unk>": 0, "<s>": 1, "</s>": 2 },
    });
    expect(stories.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("decodes back to the text and skips special tokens on request", async () => {
    const stories = loadTokenizer(STORIES_DIR);
    const ids = await stories.encode("Once upon a time", { addSpecialTokens: true });
    expect(await stories.decode(ids)).toBe("<s> Once upon a time");
    expect(await stories.decode(ids, { skipSpecialTokens: true })).toBe("Once upon a time");
    const qwen = loadTokenizer(QWEN3_DIR);
    const text = "Emoji 😀👍🏽 family 👨‍👩‍👧‍👦";
    expect(await qwen.decode(await qwen.encode(text))).toBe(text);
  });

  it("reports offsets in UTF-16 code units, astral characters included", async () => {
    const qwen = loadTokenizer(QWEN3_DIR);
    const text = "Hi 😀 there";
    const { ids, offsets } = await qwen.encodeWithOffsets(text);
    expect(ids).toEqual([13048, 90316, 1052]);
    expect([...offsets]).toEqual([0, 2, 2, 5, 5, 11]);
    expect(text.slice(2, 5)).toBe(" 😀");
  });
});

describe("loadTokenizer: errors", () => {
  const dir = () => mkdtempSync(join(tmpdir(), "tk-tok-"));
  it("TOKENIZE_MODEL_DIR_NOT_FOUND", () => {
    expect(() => loadTokenizer("/nonexistent/model")).toThrow(expect.objectContaining({ code: "TOKENIZE_MODEL_DIR_NOT_FOUND" }));
  });
  it("TOKENIZE_TOKENIZER_MISSING when tokenizer.json is absent", () => {
    expect(() => loadTokenizer(dir())).toThrow(expect.objectContaining({ code: "TOKENIZE_TOKENIZER_MISSING" }));
  });
  it("TOKENIZE_TOKENIZER_INVALID for a file that is not JSON or not a tokenizer", () => {
    const a = dir();
    writeFileSync(join(a, "tokenizer.json"), "version https://git-lfs.github.com/spec/v1\n");
    expect(() => loadTokenizer(a)).toThrow(expect.objectContaining({ code: "TOKENIZE_TOKENIZER_INVALID" }));
    const b = dir();
    writeFileSync(join(b, "tokenizer.json"), JSON.stringify({ model: { type: "Nope" } }));
    expect(() => loadTokenizer(b)).toThrow(expect.objectContaining({ code: "TOKENIZE_TOKENIZER_INVALID" }));
  });
  it("TOKENIZE_CONFIG_INVALID when bos_token is not in the vocabulary", () => {
    const d = dir();
    mkdirSync(d, { recursive: true });
    copyFileSync(join(STORIES_DIR, "tokenizer.json"), join(d, "tokenizer.json"));
    writeFileSync(join(d, "tokenizer_config.json"), JSON.stringify({ bos_token: "<|nope|>" }));
    expect(() => loadTokenizer(d)).toThrow(expect.objectContaining({ code: "TOKENIZE_CONFIG_INVALID" }));
  });
});
