import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DatasetRecord } from "../data/index.js";
import { loadChatTemplate } from "./chat-template.js";
import { compileShards } from "./compile-shards.js";
import { loadTokenizer } from "./load-tokenizer.js";
import { SequencePacker } from "./sequence-packer.js";
import { STORIES_DIR } from "./testing/models.js";

const tokenizer = loadTokenizer(STORIES_DIR);
const template = loadChatTemplate(tokenizer);
const records: DatasetRecord[] = [
  { text: "Once upon a time" },
  { messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello there" }] },
  { text: "The little dog was sad because it lost its ball." },
  { text: "Lily", metadata: { id: "short" } },
];
const tmp = () => mkdtempSync(join(tmpdir(), "tk-shards-"));
const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const u32 = (path: string) => Array.from(new Uint32Array(new Uint8Array(readFileSync(path)).buffer));
const u16 = (path: string) => Array.from(new Uint16Array(new Uint8Array(readFileSync(path)).buffer));

describe("SequencePacker", () => {
  it("first-fit in order, segments 1..k, first token of a segment never trained, padding 0", () => {
    const packer = new SequencePacker(6, 9, true);
    expect(packer.add({ ids: [1, 2, 3, 4], mask: [1, 1, 1, 1] })).toEqual([]);
    expect(packer.add({ ids: [5, 6, 7], mask: [1, 1, 1] })).toEqual([]); // no room in seq 1 → seq 2
    const done = packer.add({ ids: [8, 9], mask: [0, 1] }); // fits seq 1 exactly → emitted
    expect(done.map((s) => [Array.from(s.tokens), Array.from(s.mask), Array.from(s.segments)])).toEqual([[[1, 2, 3, 4, 8, 9], [0, 1, 1, 1, 0, 1], [1, 1, 1, 1, 2, 2]]]);
    expect(packer.flush().map((s) => [Array.from(s.tokens), Array.from(s.mask), Array.from(s.segments)])).toEqual([[[5, 6, 7, 9, 9, 9], [0, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0]]]);
  });
});

describe("compileShards", () => {
  it("writes docs/shard-format.md exactly: lengths, header counts, segment and mask semantics", async () => {
    const dir = join(tmp(), "out");
    const result = await compileShards({ splits: { train: records, val: records.slice(0, 1) }, tokenizer, template, seqLen: 64, outDir: dir });
    const header = JSON.parse(readFileSync(join(dir, "header.json"), "utf8"));
    expect(header).toEqual(result.header);
    const L = 64;
    const tokens = u32(join(dir, "train.tokens.bin"));
    const mask = Array.from(readFileSync(join(dir, "train.mask.bin")));
    const segments = u16(join(dir, "train.segments.bin"));
    const n = header.splits.train.sequences;
    expect([tokens.length, mask.length, segments.length]).toEqual([n * L, n * L, n * L]);
    expect(header.splits.train.tokens).toBe(segments.filter((s) => s !== 0).length);
    expect(header.splits.train.trained_tokens).toBe(mask.filter((m) => m === 1).length);
    expect(header.splits.train.documents).toBe(4);
    for (let t = 0; t < tokens.length; t++) {
      const first = t % L === 0 || segments[t] !== segments[t - 1];
      if (segments[t] === 0) expect([tokens[t], mask[t]]).toEqual([tokenizer.padId, 0]);
      else if (first) expect(mask[t]).toBe(0);
    }
    // The first document: "<s> Once upon a time </s>", trained on all but its first token.
    expect(tokens.slice(0, 6)).toEqual([1, 403, 407, 261, 378, 2]);
    expect(mask.slice(0, 6)).toEqual([0, 1, 1, 1, 1, 1]);
    expect(readdirSync(dir).sort()).toEqual(["header.json", "train.mask.bin", "train.segments.bin", "train.tokens.bin", "val.mask.bin", "val.segments.bin", "val.tokens.bin"]);
    expect(header.files["train.tokens.bin"]).toBe(sha(join(dir, "train.tokens.bin")));
  });

  it("is deterministic: the same inputs give the same bytes", async () => {
    const a = join(tmp(), "a");
    const b = join(tmp(), "b");
    await compileShards({ splits: { train: records }, tokenizer, template, seqLen: 32, outDir: a });
    await compileShards({ splits: { train: records }, tokenizer, template, seqLen: 32, outDir: b, batchSize: 1 });
    for (const f of ["header.json", "train.tokens.bin", "train.mask.bin", "train.segments.bin"]) expect(sha(join(a, f))).toBe(sha(join(b, f)));
  });

  it("without packing: one document per padded sequence", async () => {
    const dir = join(tmp(), "p");
    const { header } = await compileShards({ splits: { train: records }, tokenizer, template, seqLen: 64, outDir: dir, packing: false });
    expect(header.splits.train?.sequences).toBe(4);
    expect(new Set(u16(join(dir, "train.segments.bin")))).toEqual(new Set([0, 1]));
  });

  it("reports truncation: truncate keeps the head, drop leaves the example out", async () => {
    const long: DatasetRecord[] = [{ text: "Once upon a time there was a little girl named Lily.", metadata: { id: "long-1" } }, { text: "Hi" }];
    const t = await compileShards({ splits: { train: long }, tokenizer, template, seqLen: 8, outDir: join(tmp(), "t") });
    expect(t.header.truncation.policy).toBe("truncate");
    expect(t.header.truncation.examples).toBe(1);
    expect(t.header.truncation.ids).toEqual(["long-1"]);
    expect(t.header.splits.train?.documents).toBe(2);
    const d = await compileShards({ splits: { train: long }, tokenizer, template, seqLen: 8, outDir: join(tmp(), "d"), truncation: "drop" });
    expect(d.header.splits.train?.documents).toBe(1);
    expect(d.header.truncation.tokens).toBe(t.header.truncation.tokens + 8);
  });

  it("errors: no train split, empty train, existing output, invalid options — and nothing is left behind", async () => {
    const root = tmp();
    await expect(compileShards({ splits: { val: records }, tokenizer, template, seqLen: 16, outDir: join(root, "x") })).rejects.toMatchObject({ code: "TOKENIZE_NO_TRAIN_SPLIT" });
    const weightless: DatasetRecord = { messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Yo", weight: 0 }] };
    await expect(compileShards({ splits: { train: [weightless] }, tokenizer, template, seqLen: 16, outDir: join(root, "y") })).rejects.toMatchObject({ code: "TOKENIZE_EMPTY_TRAIN_SPLIT" });
    await expect(compileShards({ splits: { train: records }, tokenizer, template, seqLen: 1, outDir: join(root, "z") })).rejects.toMatchObject({ code: "TOKENIZE_COMPILE_OPTIONS_INVALID" });
    await compileShards({ splits: { train: records }, tokenizer, template, seqLen: 16, outDir: join(root, "w") });
    await expect(compileShards({ splits: { train: records }, tokenizer, template, seqLen: 16, outDir: join(root, "w") })).rejects.toMatchObject({ code: "TOKENIZE_OUT_EXISTS" });
    expect(readdirSync(root)).toEqual(["w"]);
    expect(existsSync(join(root, "y"))).toBe(false);
  });
});
