import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { z } from "zod";
import type { DatasetRecord } from "../data/index.js";
import { ConflictError, DataError, UsageError } from "../errors/index.js";
import type { TrainOn } from "./build-example.js";
import type { ChatTemplate } from "./chat-template.js";
import type { Tokenizer } from "./load-tokenizer.js";
import type { PackedSequence } from "./sequence-packer.js";
import { SplitShardWriter } from "./shard-writer.js";

export const SHARD_SPLITS = ["train", "val", "test"] as const;
export type ShardSplit = (typeof SHARD_SPLITS)[number];

export const CompileOptionsSchema = z.strictObject({
  outDir: z.string().min(1),
  seqLen: z.number().int().min(2).max(1 << 20),
  packing: z.boolean().default(true),
  truncation: z.enum(["truncate", "drop"]).default("truncate"),
  trainOn: z.enum(["assistant", "all"]).default("assistant"),
  variables: z.record(z.string(), z.unknown()).default({}),
  datasetVersion: z.string().nullable().default(null),
  overwrite: z.boolean().default(false),
  /** Records rendered and tokenized per batch (one batched encode across cores). */
  batchSize: z.number().int().min(1).default(512),
});
export type CompileOptions = z.input<typeof CompileOptionsSchema>;
export type ParsedCompileOptions = z.output<typeof CompileOptionsSchema>;

export interface CompileInput extends CompileOptions {
  splits: Partial<Record<ShardSplit, Iterable<DatasetRecord> | AsyncIterable<DatasetRecord>>>;
  tokenizer: Tokenizer;
  template: ChatTemplate;
  onProgress?: (event: { split: ShardSplit; documents: number; tokens: number }) => void;
}

export interface SplitSummary {
  sequences: number;
  tokens: number;
  documents: number;
  trained_tokens: number;
  truncated_documents: number;
  /** Documents left out because nothing in them is trained (e.g. every assistant turn weight 0). */
  untrained_documents: number;
}

/** A shard folder's header.json (docs/shard-format.md), its split summaries of type S. */
export interface ShardHeaderOf<S extends SplitSummary> {
  format: "tunekit-shards";
  version: 1;
  /** Absent for packed SFT rows; "pairs" for preference pairs (row 2i chosen, 2i+1 rejected). */
  layout?: "pairs";
  seq_len: number;
  packing: boolean;
  pad_token_id: number;
  bos_token_id: number | null;
  eos_token_id: number | null;
  vocab_size: number;
  tokenizer_sha256: string;
  template_sha256: string;
  template: string;
  train_on: TrainOn;
  dataset_version: string | null;
  splits: Partial<Record<ShardSplit, S>>;
  truncation: { policy: "truncate" | "drop"; examples: number; tokens: number; ids: string[] };
  /** sha256 of every .bin file */
  files: Record<string, string>;
}

export interface CompiledSplits<S extends SplitSummary> {
  dir: string;
  header: ShardHeaderOf<S>;
  /** Warning code → how many examples carried it. */
  warnings: Record<string, number>;
  seconds: number;
  tokensPerSecond: number;
}

/** What a layout's encoder writes through: rows into the split's shard files, and the header's tallies. */
export interface SplitSink<S extends SplitSummary> {
  readonly split: ShardSplit;
  readonly summary: S;
  /** Writes one row and counts it in the summary (sequences, tokens, trained_tokens). */
  write(row: PackedSequence): Promise<void>;
  /** Counts one example's warnings, each code once. */
  countWarnings(codes: Iterable<string>): void;
  /** Counts a truncated or dropped record (`cut` tokens lost), record `index` of the split. */
  countTruncated(record: DatasetRecord, index: number, cut: number): void;
}

/** One split's encoder: turns batches of records into rows. */
export interface SplitEncoder {
  /** Encodes records index .. index + batch.length - 1 of the split, writing the rows they complete. */
  encodeBatch(batch: readonly DatasetRecord[], index: number): Promise<void>;
  /** Writes what is still open after the split's last batch. */
  finish?(): Promise<void>;
}

/** What a layout's encoder reads: the validated options and the text pipeline. */
export interface CompileJob {
  options: ParsedCompileOptions;
  tokenizer: Tokenizer;
  template: ChatTemplate;
}

/** What differs between shard layouts; compileSplits does the rest. */
export interface ShardLayout<S extends SplitSummary> {
  /** The fix of TOKENIZE_COMPILE_OPTIONS_INVALID: the options this layout reads. */
  optionsFix: string;
  /** The header fields that depend on the layout. */
  header(options: ParsedCompileOptions): { layout?: "pairs"; packing: boolean; trainOn: TrainOn };
  /** A zeroed summary for one split. */
  emptySummary(): S;
  openSplit(sink: SplitSink<S>, job: CompileJob): SplitEncoder;
  /** When the train split gave nothing to train on (`isEmpty`), and what TOKENIZE_EMPTY_TRAIN_SPLIT then says. */
  emptyTrain: { isEmpty(train: S): boolean; message: string; fix: string };
}

/** How many truncated record ids the header lists. */
const MAX_TRUNCATED_IDS = 1000;

function recordId(record: DatasetRecord, split: string, index: number): string {
  const id = record.metadata?.id;
  return typeof id === "string" || typeof id === "number" ? String(id) : `${split}:${index}`;
}

/** Groups a (possibly async) stream into arrays of `size` items, the last one shorter. */
async function* batches<T>(source: Iterable<T> | AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of source) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

function parseOptions(input: CompileInput, fix: string): ParsedCompileOptions {
  const { splits: _s, tokenizer: _t, template: _c, onProgress: _p, ...rawOptions } = input;
  const parsed = CompileOptionsSchema.safeParse(rawOptions);
  if (!parsed.success) {
    throw new UsageError("TOKENIZE_COMPILE_OPTIONS_INVALID", `invalid compile options: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, { fix });
  }
  return parsed.data;
}

/**
 * The skeleton every shard layout shares (docs/shard-format.md): validates the options, then writes each split
 * through the layout's encoder into `<split>.*.bin` and a header.json. Streams: records are read a batch at a
 * time. Atomic: everything is written into a temporary sibling folder renamed into place at the end; on any
 * failure it is removed and nothing changes.
 */
export async function compileSplits<S extends SplitSummary>(input: CompileInput, layout: ShardLayout<S>): Promise<CompiledSplits<S>> {
  const options = parseOptions(input, layout.optionsFix);
  const { tokenizer, template } = input;
  if (input.splits.train === undefined) {
    throw new DataError("TOKENIZE_NO_TRAIN_SPLIT", "no train split to compile", {
      fix: "Split the dataset first (`tunekit data split NAME`) so records carry metadata.split = train.",
    });
  }
  const outDir = resolve(options.outDir);
  if (existsSync(outDir) && !options.overwrite) {
    throw new ConflictError("TOKENIZE_OUT_EXISTS", `output folder ${outDir} already exists`, { fix: "Choose another --out or pass overwrite (--force)." });
  }
  await mkdir(dirname(outDir), { recursive: true });
  const tmpDir = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  await mkdir(tmpDir);
  const started = performance.now();
  const truncation = { policy: options.truncation, examples: 0, tokens: 0, ids: [] as string[] };
  const warnings: Record<string, number> = {};
  const splits: Partial<Record<ShardSplit, S>> = {};
  const files: Record<string, string> = {};
  let totalTokens = 0;
  try {
    for (const split of SHARD_SPLITS) {
      const source = input.splits[split];
      if (source === undefined) continue;
      const summary = layout.emptySummary();
      const writer = await SplitShardWriter.create(tmpDir, split);
      const sink: SplitSink<S> = {
        split,
        summary,
        write: async (row) => {
          await writer.write(row);
          summary.sequences++;
          summary.tokens += row.used;
          summary.trained_tokens += row.trained;
        },
        countWarnings: (codes) => {
          for (const code of new Set(codes)) warnings[code] = (warnings[code] ?? 0) + 1;
        },
        countTruncated: (record, index, cut) => {
          truncation.examples++;
          truncation.tokens += cut;
          summary.truncated_documents++;
          if (truncation.ids.length < MAX_TRUNCATED_IDS) truncation.ids.push(recordId(record, split, index));
        },
      };
      try {
        const encoder = layout.openSplit(sink, { options, tokenizer, template });
        let index = 0;
        for await (const batch of batches(source, options.batchSize)) {
          await encoder.encodeBatch(batch, index);
          index += batch.length;
          input.onProgress?.({ split, documents: summary.documents, tokens: summary.tokens });
        }
        await encoder.finish?.();
        const written = await writer.close();
        if (summary.sequences === 0 && split !== "train") {
          // An empty val/test split is no split: leave its files out rather than hand the worker 0-row shards.
          await Promise.all(Object.keys(written.sha256).map((name) => rm(join(tmpDir, name))));
          continue;
        }
        Object.assign(files, written.sha256);
      } catch (error) {
        await writer.abort();
        throw error;
      }
      splits[split] = summary;
      totalTokens += summary.tokens;
    }
    // The train split is never left out above, so its summary is there.
    const train = splits.train!;
    if (layout.emptyTrain.isEmpty(train)) {
      throw new DataError("TOKENIZE_EMPTY_TRAIN_SPLIT", layout.emptyTrain.message, { fix: layout.emptyTrain.fix, details: { train } });
    }
    const fields = layout.header(options);
    const header: ShardHeaderOf<S> = {
      format: "tunekit-shards",
      version: 1,
      // Key order is the header.json byte layout: `layout` sits after `version` where a layout has one.
      ...(fields.layout === undefined ? {} : { layout: fields.layout }),
      seq_len: options.seqLen,
      packing: fields.packing,
      pad_token_id: tokenizer.padId,
      bos_token_id: tokenizer.bosId,
      eos_token_id: tokenizer.eosId,
      vocab_size: tokenizer.vocabSize,
      tokenizer_sha256: tokenizer.sha256,
      template_sha256: template.sha256,
      template: template.name,
      train_on: fields.trainOn,
      dataset_version: options.datasetVersion,
      splits,
      truncation,
      files,
    };
    await writeFile(join(tmpDir, "header.json"), `${JSON.stringify(header, null, 2)}\n`);
    await replaceDir(tmpDir, outDir);
    const seconds = (performance.now() - started) / 1000;
    return { dir: outDir, header, warnings, seconds, tokensPerSecond: totalTokens / Math.max(seconds, 1e-9) };
  } catch (error) {
    await rm(tmpDir, { recursive: true, force: true });
    throw error;
  }
}

async function replaceDir(tmpDir: string, outDir: string): Promise<void> {
  if (!existsSync(outDir)) {
    await rename(tmpDir, outDir);
    return;
  }
  const old = `${tmpDir}.old`;
  await rename(outDir, old);
  await rename(tmpDir, outDir);
  await rm(old, { recursive: true, force: true });
}
