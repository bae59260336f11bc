import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DatasetRecord } from "../data/index.js";
import { loadChatTemplate } from "./chat-template.js";
import { compilePreferenceShards } from "./compile-preference-shards.js";
import { loadTokenizer } from "./load-tokenizer.js";
import { STORIES_DIR } from "./testing/models.js";

const tokenizer = loadTokenizer(STORIES_DIR);
const template = loadChatTemplate(tokenizer);
const tmp = () => mkdtempSync(join(tmpdir(), "tk-pref-shards-"));
const u32 = (path: string) => Array.from(new Uint32Array(new Uint8Array(readFileSync(path)).buffer));
const u16 = (path: string) => Array.from(new Uint16Array(new Uint8Array(readFileSync(path)).buffer));
const pair: DatasetRecord = {
  input: { messages: [{ role: "user", content: "Hi" }] },
  preferred_output: [{ role: "assistant", content: "Hello" }],
  non_preferred_output: [{ role: "assistant", content: "Go" }],
};
// "<s><|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" (42 tokens), then the completion and "<|im_end|>\n".
const PROMPT = [1, 410, 504, 506, 288, 98, 356, 295, 413, 506, 505, 425, 419, 285, 13, 440, 417, 504, 506, 288, 98, 367, 506, 505, 13, 504, 506, 288, 98, 356, 295, 413, 506, 505, 412, 419, 419, 293, 413, 303, 413, 13];
const END = [504, 506, 288, 98, 367, 506, 505];
const CHOSEN = [...PROMPT, 440, 411, 306, 414, ...END, 13];
const REJECTED = [...PROMPT, 463, 414, ...END, 13];
const maskOf = (prompt: number, completion: number, length: number, seqLen: number) => [
  ...new Array<number>(prompt).fill(0),
  ...new Array<number>(completion).fill(1),
  ...new Array<number>(seqLen - prompt - completion).fill(0),
].map((m, t) => (t < length ? m : 0));
const padded = (ids: number[], seqLen: number) => [...ids, ...new Array<number>(seqLen - ids.length).fill(tokenizer.padId)];

describe("compilePreferenceShards", () => {
  it("writes pair i as rows 2i (chosen) and 2i+1 (rejected), completion tokens trained, header layout pairs", async () => {
    const dir = join(tmp(), "out");
    const result = await compilePreferenceShards({ splits: { train: [pair], val: [pair] }, tokenizer, template, seqLen: 64, outDir: dir, datasetVersion: "v1" });
    const L = 64;
    expect(u32(join(dir, "train.tokens.bin"))).toEqual([...padded(CHOSEN, L), ...padded(REJECTED, L)]);
    expect(Array.from(readFileSync(join(dir, "train.mask.bin")))).toEqual([...maskOf(42, 11, CHOSEN.length, L), ...maskOf(42, 9, REJECTED.length, L)]);
    expect(u16(join(dir, "train.segments.bin"))).toEqual([...padded(CHOSEN.map(() => 1), L).map((s, t) => (t < CHOSEN.length ? 1 : 0)), ...padded(REJECTED.map(() => 1), L).map((s, t) => (t < REJECTED.length ? 1 : 0))]);
    const summary = { sequences: 2, tokens: CHOSEN.length + REJECTED.length, documents: 2, trained_tokens: 20, truncated_documents: 0, untrained_documents: 0, pairs: 1 };
    expect(result.header).toEqual({
      format: "tunekit-shards",
      version: 1,
      layout: "pairs",
      seq_len: 64,
      packing: false,
      pad_token_id: tokenizer.padId,
      bos_token_id: 1,
      eos_token_id: 2,
      vocab_size: tokenizer.vocabSize,
      tokenizer_sha256: tokenizer.sha256,
      template_sha256: template.sha256,
      template: template.name,
      train_on: "assistant",
      dataset_version: "v1",
      splits: { train: summary, val: summary },
      truncation: { policy: "truncate", examples: 0, tokens: 0, ids: [] },
      files: expect.any(Object),
    });
    expect(JSON.parse(readFileSync(join(dir, "header.json"), "utf8"))).toEqual(result.header);
  });

  it("a long pair loses prompt tokens from the left (BOS kept), the same in both rows", async () => {
    const dir = join(tmp(), "out");
    const result = await compilePreferenceShards({ splits: { train: [pair] }, tokenizer, template, seqLen: 48, outDir: dir });
    const tokens = u32(join(dir, "train.tokens.bin"));
    expect(tokens.slice(0, 48)).toEqual([1, ...CHOSEN.slice(7)]);
    expect(tokens.slice(48, 48 + REJECTED.length - 6)).toEqual([1, ...REJECTED.slice(7)]);
    expect(result.header.truncation).toEqual({ policy: "truncate", examples: 1, tokens: 12, ids: ["train:0"] });
  });

  it("refuses a chat record among preference records and leaves nothing behind (TOKENIZE_NOT_PREFERENCE)", async () => {
    const root = tmp();
    const chat: DatasetRecord = { messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }] };
    await expect(compilePreferenceShards({ splits: { train: [pair, chat] }, tokenizer, template, seqLen: 64, outDir: join(root, "out") })).rejects.toMatchObject({ code: "TOKENIZE_NOT_PREFERENCE" });
    expect(existsSync(join(root, "out"))).toBe(false);
    expect(readdirSync(root)).toEqual([]);
  });

  it("a train split whose every pair is dropped is refused (TOKENIZE_EMPTY_TRAIN_SPLIT)", async () => {
    await expect(compilePreferenceShards({ splits: { train: [pair] }, tokenizer, template, seqLen: 16, truncation: "drop", outDir: join(tmp(), "out") })).rejects.toMatchObject({ code: "TOKENIZE_EMPTY_TRAIN_SPLIT" });
  });
});
