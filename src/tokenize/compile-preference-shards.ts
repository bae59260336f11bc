import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { isPreferenceRecord, type DatasetRecord, type PreferenceRecord } from "../data/index.js";
import { ConflictError, DataError, UsageError } from "../errors/index.js";
import { batches, CompileOptionsSchema, replaceDir, SHARD_SPLITS, type CompileInput, type CompileResult, type ShardHeader, type ShardSplit, type SplitSummary } from "./compile-shards.js";
import { buildPairs, fitPair } from "./preference-pair.js";
import { SequencePacker } from "./sequence-packer.js";
import { SplitShardWriter } from "./shard-writer.js";

/** The header of a preference shard folder: the SFT header plus `layout: "pairs"` and a pair count per split. */
export interface PreferenceShardHeader extends Omit<ShardHeader, "splits"> {
  layout: "pairs";
  splits: Partial<Record<ShardSplit, SplitSummary & { pairs: number }>>;
}

export interface PreferenceCompileResult extends Omit<CompileResult, "header"> {
  header: PreferenceShardHeader;
}

function asPreference(record: DatasetRecord, split: string, index: number): PreferenceRecord {
  if (isPreferenceRecord(record)) return record;
  throw new DataError("TOKENIZE_NOT_PREFERENCE", `${split} record ${index} is not a preference record (it has no preferred_output / non_preferred_output)`, {
    fix: "Preference training (objective dpo or orpo) compiles preference records only: remove the chat/text records from this dataset version, or train them with objective sft.",
  });
}

/**
 * Compiles preference records into paired rows (docs/shard-format.md, layout "pairs"): pair i is row 2i (chosen)
 * and row 2i+1 (rejected), one unpacked, padded segment each, masks on the completion tokens only. Streams a
 * batch of records at a time; atomic like compileShards (a temporary sibling folder renamed into place).
 */
export async function compilePreferenceShards(input: CompileInput): Promise<PreferenceCompileResult> {
  const { splits: _s, tokenizer: _t, template: _c, onProgress: _p, ...rawOptions } = input;
  const parsed = CompileOptionsSchema.safeParse(rawOptions);
  if (!parsed.success) {
    throw new UsageError("TOKENIZE_COMPILE_OPTIONS_INVALID", `invalid compile options: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, {
      fix: "Pass a positive integer seqLen (>= 2), truncation truncate|drop.",
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
  const splits: PreferenceShardHeader["splits"] = {};
  const files: Record<string, string> = {};
  let totalTokens = 0;
  try {
    for (const split of SHARD_SPLITS) {
      const source = input.splits[split];
      if (source === undefined) continue;
      const summary = { sequences: 0, tokens: 0, documents: 0, trained_tokens: 0, truncated_documents: 0, untrained_documents: 0, pairs: 0 };
      // Unpacked: every sequence gets its own padded row, so row 2i / 2i+1 are pair i.
      const rows = new SequencePacker(options.seqLen, tokenizer.padId, false);
      const writer = await SplitShardWriter.create(tmpDir, split);
      try {
        let index = 0;
        for await (const batch of batches(source, options.batchSize)) {
          const records = batch.map((r, i) => asPreference(r, split, index + i));
          const pairs = await buildPairs(records, { tokenizer, template, variables: options.variables });
          for (let i = 0; i < pairs.length; i++, index++) {
            for (const w of new Set([...pairs[i].chosen.warnings, ...pairs[i].rejected.warnings].map((w) => w.code))) warnings[w] = (warnings[w] ?? 0) + 1;
            const fitted = fitPair(pairs[i], options.seqLen, options.truncation, tokenizer.bosId);
            if (fitted === null || fitted.cut > 0) {
              truncation.examples++;
              truncation.tokens += fitted?.cut ?? pairs[i].chosen.ids.length + pairs[i].rejected.ids.length;
              summary.truncated_documents++;
              const id = records[i].metadata?.id;
              if (truncation.ids.length < 1000) truncation.ids.push(typeof id === "string" || typeof id === "number" ? String(id) : `${split}:${index}`);
            }
            if (fitted === null) continue;
            const [chosen] = rows.add(fitted.chosen);
            const [rejected] = rows.add(fitted.rejected);
            if (chosen.trained === 0 || rejected.trained === 0) {
              summary.untrained_documents++;
              continue;
            }
            for (const row of [chosen, rejected]) {
              await writer.write(row);
              summary.sequences++;
              summary.documents++;
              summary.tokens += row.used;
              summary.trained_tokens += row.trained;
            }
            summary.pairs++;
          }
          input.onProgress?.({ split, documents: summary.documents, tokens: summary.tokens });
        }
        const written = await writer.close();
        if (summary.sequences === 0 && split !== "train") {
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
    if ((splits.train?.pairs ?? 0) === 0) {
      throw new DataError("TOKENIZE_EMPTY_TRAIN_SPLIT", "the train split produced no preference pairs (no records, or none that fit with a trained completion)", {
        fix: "Check the train split has preference records with non-empty assistant completions, or raise seqLen.",
        details: { train: splits.train },
      });
    }
    const header: PreferenceShardHeader = {
      format: "tunekit-shards",
      version: 1,
      layout: "pairs",
      seq_len: options.seqLen,
      packing: false,
      pad_token_id: tokenizer.padId,
      bos_token_id: tokenizer.bosId,
      eos_token_id: tokenizer.eosId,
      vocab_size: tokenizer.vocabSize,
      tokenizer_sha256: tokenizer.sha256,
      template_sha256: template.sha256,
      template: template.name,
      train_on: "assistant",
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
