import { readVersion, isTrainedOn, isValidatedOn, splitOf, type DatasetRecord } from "../data/index.js";
import type { Workspace } from "../registry/index.js";
import { loadChatTemplate, compileShards, compilePreferenceShards, loadTokenizer, type CompileResult, type ShardSplit } from "../tokenize/index.js";
import type { ResolvedTrainSpec } from "./spec-check.js";

/**
 * Compiles a run's dataset version into shards (docs/shard-format.md) with the base model's tokenizer. Records
 * are routed by metadata.split through the one membership rule (unlabelled records train; unknown labels are
 * left out). Each split streams the version once (the artifact is
 * read per split rather than held in memory).
 */
export async function compileRunData(ws: Pick<Workspace, "registry" | "artifacts">, resolved: ResolvedTrainSpec, outDir: string): Promise<CompileResult> {
  const { spec, version, splits: counts } = resolved;
  const tokenizer = loadTokenizer(resolved.modelDir);
  const template = loadChatTemplate(tokenizer, { template: spec.template });
  const only = (wanted: ShardSplit): AsyncIterable<DatasetRecord> => ({
    async *[Symbol.asyncIterator]() {
      for await (const record of readVersion(ws, version)) {
        const split = splitOf(record.metadata);
        if (wanted === "train" ? isTrainedOn(split) : wanted === "val" && isValidatedOn(split)) yield record;
      }
    },
  });
  const splits: Partial<Record<ShardSplit, AsyncIterable<DatasetRecord>>> = { train: only("train") };
  if (spec.eval.enabled && counts.val > 0) splits.val = only("val");
  // Preference objectives read paired rows (docs/shard-format.md, layout "pairs"); sft packs documents.
  const compile = spec.objective === "sft" ? compileShards : compilePreferenceShards;
  return compile({
    outDir,
    seqLen: spec.seqLen,
    packing: spec.packing,
    truncation: spec.truncation,
    trainOn: spec.trainOn,
    datasetVersion: version.id,
    overwrite: true,
    splits,
    tokenizer,
    template,
  });
}
