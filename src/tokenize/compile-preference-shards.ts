import { isPreferenceRecord, type DatasetRecord, type PreferenceRecord } from "../data/index.js";
import { DataError } from "../errors/index.js";
import { compileSplits, type CompiledSplits, type CompileInput, type ShardHeaderOf, type ShardLayout, type SplitSummary } from "./compile-splits.js";
import { buildPairs, fitPair } from "./preference-pair.js";
import { SequencePacker } from "./sequence-packer.js";

export type PreferenceSplitSummary = SplitSummary & { pairs: number };

/** The header of a preference shard folder: the SFT header plus `layout: "pairs"` and a pair count per split. */
export interface PreferenceShardHeader extends ShardHeaderOf<PreferenceSplitSummary> {
  layout: "pairs";
}

export interface PreferenceCompileResult extends Omit<CompiledSplits<PreferenceSplitSummary>, "header"> {
  header: PreferenceShardHeader;
}

function asPreference(record: DatasetRecord, split: string, index: number): PreferenceRecord {
  if (isPreferenceRecord(record)) return record;
  throw new DataError("TOKENIZE_NOT_PREFERENCE", `${split} record ${index} is not a preference record (it has no preferred_output / non_preferred_output)`, {
    fix: "Preference training (objective dpo or orpo) compiles preference records only: remove the chat/text records from this dataset version, or train them with objective sft.",
  });
}

/** Paired rows: pair i is row 2i (chosen) and row 2i+1 (rejected), one unpacked, padded segment each. */
const PAIRS_LAYOUT: ShardLayout<PreferenceSplitSummary> = {
  optionsFix: "Pass a positive integer seqLen (>= 2), truncation truncate|drop.",
  header: () => ({ layout: "pairs", packing: false, trainOn: "assistant" }),
  emptySummary: () => ({ sequences: 0, tokens: 0, documents: 0, trained_tokens: 0, truncated_documents: 0, untrained_documents: 0, pairs: 0 }),
  openSplit(sink, { options, tokenizer, template }) {
    // Unpacked: every sequence gets its own padded row, so row 2i / 2i+1 are pair i.
    const rows = new SequencePacker(options.seqLen, tokenizer.padId, false);
    const { split, summary } = sink;
    return {
      async encodeBatch(batch, index) {
        const records = batch.map((r, i) => asPreference(r, split, index + i));
        const pairs = await buildPairs(records, { tokenizer, template, variables: options.variables });
        for (let i = 0; i < pairs.length; i++) {
          sink.countWarnings([...pairs[i].chosen.warnings, ...pairs[i].rejected.warnings].map((w) => w.code));
          const fitted = fitPair(pairs[i], options.seqLen, options.truncation, tokenizer.bosId);
          if (fitted === null || fitted.cut > 0) sink.countTruncated(records[i], index + i, fitted?.cut ?? pairs[i].chosen.ids.length + pairs[i].rejected.ids.length);
          if (fitted === null) continue;
          const [chosen] = rows.add(fitted.chosen);
          const [rejected] = rows.add(fitted.rejected);
          if (chosen.trained === 0 || rejected.trained === 0) {
            summary.untrained_documents++;
            continue;
          }
          for (const row of [chosen, rejected]) {
            await sink.write(row);
            summary.documents++;
          }
          summary.pairs++;
        }
      },
    };
  },
  emptyTrain: {
    isEmpty: (train) => train.pairs === 0,
    message: "the train split produced no preference pairs (no records, or none that fit with a trained completion)",
    fix: "Check the train split has preference records with non-empty assistant completions, or raise seqLen.",
  },
};

/**
 * Compiles preference records into paired rows (docs/shard-format.md, layout "pairs"), masks on the completion
 * tokens only. Streams a batch of records at a time; atomic like compileShards (both run compileSplits).
 */
export async function compilePreferenceShards(input: CompileInput): Promise<PreferenceCompileResult> {
  const { header, ...compiled } = await compileSplits(input, PAIRS_LAYOUT);
  // PAIRS_LAYOUT always sets layout; restating it narrows the type (and keeps the key where it is).
  return { ...compiled, header: { ...header, layout: "pairs" } };
}
