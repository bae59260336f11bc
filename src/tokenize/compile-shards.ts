import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { z } from "zod";
import type { DatasetRecord } from "../data/index.js";
import { ConflictError, DataError, UsageError } from "../errors/index.js";
import { buildExamples, type TokenizedExample, type TrainOn } from "./build-example.js";
import type { ChatTemplate } from "./chat-template.js";
import type { Tokenizer } from "./load-tokenizer.js";
import { SequencePacker } from "./sequence-packer.js";
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

export interface ShardHeader {
  format: "tunekit-shards";
  version: 1;
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
  splits: Partial<Record<ShardSplit, SplitSummary>>;
  truncation: { policy: "truncate" | "drop"; examples: number; tokens: number; ids: string[] };
  /** sha256 of every .bin file */
  files: Record<string, string>;
}

export interface CompileResult {
  dir: string;
  header: ShardHeader;
  /** Warning code → how many examples carried it. */
  warnings: Record<string, number>;
  seconds: number;
  tokensPerSecond: number;
}

/** How many truncated record ids the header lists. */
const MAX_TRUNCATED_IDS = 1000;

function recordId(record: DatasetRecord, split: string, index: number): string {
  const id = record.metadata?.id;
  return typeof id === "string" || typeof id === "number" ? String(id) : `${split}:${index}`;
}

/** Groups a (possibly async) stream into arrays of `size` items, the last one shorter. */
export async function* batches<T>(source: Iterable<T> | AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
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

/**
 * Renders, masks, tokenizes and packs each split into docs/shard-format.md shards. Streams: records are read
 * and encoded a batch at a time and sequences are written as they close. Atomic: everything is written into a
 * temporary sibling folder renamed into place at the end; on any failure it is removed and nothing changes.
 */
export async function compileShards(input: CompileInput): Promise<CompileResult> {
  const { splits: _s, tokenizer: _t, template: _c, onProgress: _p, ...rawOptions } = input;
  const parsed = CompileOptionsSchema.safeParse(rawOptions);
  if (!parsed.success) {
    throw new UsageError("TOKENIZE_COMPILE_OPTIONS_INVALID", `invalid compile options: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, {
      fix: "Pass a positive integer seqLen (>= 2), truncation truncate|drop, trainOn assistant|all.",
    });
  }
  const options = parsed.data;
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
  const splits: Partial<Record<ShardSplit, SplitSummary>> = {};
  const files: Record<string, string> = {};
  let totalTokens = 0;
  try {
    for (const split of SHARD_SPLITS) {
      const source = input.splits[split];
      if (source === undefined) continue;
      const summary: SplitSummary = { sequences: 0, tokens: 0, documents: 0, trained_tokens: 0, truncated_documents: 0, untrained_documents: 0 };
      const packer = new SequencePacker(options.seqLen, tokenizer.padId, options.packing);
      const writer = await SplitShardWriter.create(tmpDir, split);
      const emit = async (sequences: ReturnType<SequencePacker["flush"]>) => {
        for (const seq of sequences) {
          await writer.write(seq);
          summary.sequences++;
          summary.tokens += seq.used;
          summary.trained_tokens += seq.trained;
        }
      };
      try {
        let index = 0;
        for await (const batch of batches(source, options.batchSize)) {
          const examples = await buildExamples(batch, { tokenizer, template, trainOn: options.trainOn, variables: options.variables });
          for (let i = 0; i < examples.length; i++, index++) {
            const example = examples[i];
            for (const w of new Set(example.warnings.map((w) => w.code))) warnings[w] = (warnings[w] ?? 0) + 1;
            const doc = fitDocument(example, options.seqLen, options.truncation);
            if (doc.cut > 0) {
              truncation.examples++;
              truncation.tokens += doc.cut;
              summary.truncated_documents++;
              if (truncation.ids.length < MAX_TRUNCATED_IDS) truncation.ids.push(recordId(batch[i], split, index));
            }
            if (doc.ids === null) continue;
            if (!hasTrainedToken(doc.mask)) {
              summary.untrained_documents++;
              continue;
            }
            summary.documents++;
            await emit(packer.add({ ids: doc.ids, mask: doc.mask }));
          }
          input.onProgress?.({ split, documents: summary.documents, tokens: summary.tokens });
        }
        await emit(packer.flush());
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
    if ((splits.train?.sequences ?? 0) === 0) {
      throw new DataError("TOKENIZE_EMPTY_TRAIN_SPLIT", "the train split produced no sequences (no records, or none with a trained token)", {
        fix: "Check the dataset has train records with assistant turns of weight 1, or compile with trainOn all.",
        details: { train: splits.train },
      });
    }
    const header: ShardHeader = {
      format: "tunekit-shards",
      version: 1,
      seq_len: options.seqLen,
      packing: options.packing,
      pad_token_id: tokenizer.padId,
      bos_token_id: tokenizer.bosId,
      eos_token_id: tokenizer.eosId,
      vocab_size: tokenizer.vocabSize,
      tokenizer_sha256: tokenizer.sha256,
      template_sha256: template.sha256,
      template: template.name,
      train_on: options.trainOn,
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

function hasTrainedToken(mask: ArrayLike<number>): boolean {
  // Index 0 is the segment's first token, never a target.
  for (let t = 1; t < mask.length; t++) if (mask[t]) return true;
  return false;
}

/** Applies the truncation policy: returns the document to place (null = dropped) and tokens cut. */
export function fitDocument(
  example: Pick<TokenizedExample, "ids" | "mask">,
  seqLen: number,
  policy: "truncate" | "drop",
): { ids: number[] | null; mask: Uint8Array; cut: number } {
  const cut = Math.max(0, example.ids.length - seqLen);
  if (cut === 0) return { ids: example.ids, mask: example.mask, cut };
  if (policy === "drop") return { ids: null, mask: example.mask, cut: example.ids.length };
  return { ids: example.ids.slice(0, seqLen), mask: example.mask.slice(0, seqLen), cut };
}

export async function replaceDir(tmpDir: string, outDir: string): Promise<void> {
  if (!existsSync(outDir)) {
    await rename(tmpDir, outDir);
    return;
  }
  const old = `${tmpDir}.old`;
  await rename(outDir, old);
  await rename(tmpDir, outDir);
  await rm(old, { recursive: true, force: true });
}
