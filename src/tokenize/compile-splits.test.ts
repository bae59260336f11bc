import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DatasetRecord } from "../data/index.js";
import { loadChatTemplate } from "./chat-template.js";
import { compileSplits, type ShardLayout, type SplitSummary } from "./compile-splits.js";
import { loadTokenizer } from "./load-tokenizer.js";
import { SequencePacker } from "./sequence-packer.js";
import { STORIES_DIR } from "./testing/models.js";

const tokenizer = loadTokenizer(STORIES_DIR);
const template = loadChatTemplate(tokenizer);
const tmp = () => mkdtempSync(join(tmpdir(), "tk-splits-"));
const u32 = (path: string) => Array.from(new Uint32Array(new Uint8Array(readFileSync(path)).buffer));

// A layout of the test's own: a text record "a b c" becomes one unpacked row of its letters' char codes, every
// token after the first trained; "boom" throws inside the encoder.
function lettersLayout(extra: Partial<ShardLayout<SplitSummary>> = {}): ShardLayout<SplitSummary> {
  return {
    optionsFix: "fix the letters options",
    header: () => ({ layout: "pairs", packing: false, trainOn: "all" }),
    emptySummary: () => ({ sequences: 0, tokens: 0, documents: 0, trained_tokens: 0, truncated_documents: 0, untrained_documents: 0 }),
    openSplit(sink, { options }) {
      const rows = new SequencePacker(options.seqLen, tokenizer.padId, false);
      return {
        async encodeBatch(batch, index) {
          for (const [i, record] of batch.entries()) {
            const text = (record as { text: string }).text;
            if (text === "boom") throw new Error("encoder failed");
            const ids = text.split(" ").map((c) => c.charCodeAt(0));
            if (ids.length > options.seqLen) sink.countTruncated(record, index + i, ids.length - options.seqLen);
            sink.countWarnings(["w", "w"]);
            sink.summary.documents++;
            for (const row of rows.add({ ids: ids.slice(0, options.seqLen), mask: ids.map(() => 1) })) await sink.write(row);
          }
        },
      };
    },
    emptyTrain: { isEmpty: (train) => train.sequences === 0, message: "no letters to train on", fix: "give the train split a letter" },
    ...extra,
  };
}
const text = (t: string, id?: string): DatasetRecord => (id === undefined ? { text: t } : { text: t, metadata: { id } });

describe("compileSplits", () => {
  it("writes each split through the layout, leaves an empty val/test out, header key order with the layout's fields", async () => {
    const dir = join(tmp(), "out");
    const progress: unknown[] = [];
    const result = await compileSplits(
      { splits: { train: [text("a b"), text("c d e", "long")], test: [] }, tokenizer, template, seqLen: 2, outDir: dir, batchSize: 1, onProgress: (e) => progress.push(e) },
      lettersLayout(),
    );
    expect(u32(join(dir, "train.tokens.bin"))).toEqual([97, 98, 99, 100]);
    expect(readdirSync(dir).sort()).toEqual(["header.json", "train.mask.bin", "train.segments.bin", "train.tokens.bin"]);
    const summary = { sequences: 2, tokens: 4, documents: 2, trained_tokens: 2, truncated_documents: 1, untrained_documents: 0 };
    expect(progress).toEqual([{ split: "train", documents: 1, tokens: 2 }, { split: "train", documents: 2, tokens: 4 }]);
    expect(result.warnings).toEqual({ w: 2 });
    const raw = readFileSync(join(dir, "header.json"), "utf8");
    expect(Object.keys(JSON.parse(raw))).toEqual(["format", "version", "layout", "seq_len", "packing", "pad_token_id", "bos_token_id", "eos_token_id", "vocab_size", "tokenizer_sha256", "template_sha256", "template", "train_on", "dataset_version", "splits", "truncation", "files"]);
    expect(JSON.parse(raw)).toEqual(result.header);
    expect(result.header).toMatchObject({ layout: "pairs", seq_len: 2, packing: false, train_on: "all", splits: { train: summary }, truncation: { policy: "truncate", examples: 1, tokens: 1, ids: ["long"] } });
  });

  it("a header without a layout has no layout key", async () => {
    const dir = join(tmp(), "out");
    const result = await compileSplits({ splits: { train: [text("a b")] }, tokenizer, template, seqLen: 2, outDir: dir }, lettersLayout({ header: () => ({ packing: true, trainOn: "assistant" }) }));
    expect("layout" in result.header).toBe(false);
    expect(Object.keys(JSON.parse(readFileSync(join(dir, "header.json"), "utf8"))).slice(0, 4)).toEqual(["format", "version", "seq_len", "packing"]);
  });

  it("an encoder error aborts the split and leaves nothing behind", async () => {
    const root = tmp();
    await expect(compileSplits({ splits: { train: [text("a b")], val: [text("boom")] }, tokenizer, template, seqLen: 2, outDir: join(root, "out") }, lettersLayout())).rejects.toThrow("encoder failed");
    expect(readdirSync(root)).toEqual([]);
  });

  it("invalid options are refused with the layout's fix (TOKENIZE_COMPILE_OPTIONS_INVALID)", async () => {
    await expect(compileSplits({ splits: { train: [] }, tokenizer, template, seqLen: 1, outDir: join(tmp(), "out") }, lettersLayout())).rejects.toMatchObject({
      code: "TOKENIZE_COMPILE_OPTIONS_INVALID",
      fix: "fix the letters options",
    });
  });

  it("an empty train split is refused with the layout's message and fix, before anything is renamed into place (TOKENIZE_EMPTY_TRAIN_SPLIT)", async () => {
    const root = tmp();
    await expect(compileSplits({ splits: { train: [] }, tokenizer, template, seqLen: 2, outDir: join(root, "out") }, lettersLayout())).rejects.toMatchObject({
      code: "TOKENIZE_EMPTY_TRAIN_SPLIT",
      message: "no letters to train on",
      fix: "give the train split a letter",
      details: { train: { sequences: 0, tokens: 0, documents: 0, trained_tokens: 0, truncated_documents: 0, untrained_documents: 0 } },
    });
    expect(readdirSync(root)).toEqual([]);
  });
});
