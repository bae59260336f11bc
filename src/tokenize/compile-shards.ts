import { buildExamples, type TokenizedExample } from "./build-example.js";
import { compileSplits, type CompiledSplits, type CompileInput, type ShardHeaderOf, type ShardLayout, type SplitSummary } from "./compile-splits.js";
import { SequencePacker } from "./sequence-packer.js";

/** The header of a packed SFT shard folder (no `layout` field). */
export type ShardHeader = Omit<ShardHeaderOf<SplitSummary>, "layout">;

export interface CompileResult extends Omit<CompiledSplits<SplitSummary>, "header"> {
  header: ShardHeader;
}

/** Packed SFT rows: rendered and masked conversations, first-fit packed (or one per row) into seqLen tokens. */
const PACKED_LAYOUT: ShardLayout<SplitSummary> = {
  optionsFix: "Pass a positive integer seqLen (>= 2), truncation truncate|drop, trainOn assistant|all.",
  header: (options) => ({ packing: options.packing, trainOn: options.trainOn }),
  emptySummary: () => ({ sequences: 0, tokens: 0, documents: 0, trained_tokens: 0, truncated_documents: 0, untrained_documents: 0 }),
  openSplit(sink, { options, tokenizer, template }) {
    const packer = new SequencePacker(options.seqLen, tokenizer.padId, options.packing);
    const emit = async (sequences: ReturnType<SequencePacker["flush"]>) => {
      for (const seq of sequences) await sink.write(seq);
    };
    return {
      async encodeBatch(batch, index) {
        const examples = await buildExamples(batch, { tokenizer, template, trainOn: options.trainOn, variables: options.variables });
        for (let i = 0; i < examples.length; i++) {
          const example = examples[i];
          sink.countWarnings(example.warnings.map((w) => w.code));
          const doc = fitDocument(example, options.seqLen, options.truncation);
          if (doc.cut > 0) sink.countTruncated(batch[i], index + i, doc.cut);
          if (doc.ids === null) continue;
          if (!hasTrainedToken(doc.mask)) {
            sink.summary.untrained_documents++;
            continue;
          }
          sink.summary.documents++;
          await emit(packer.add({ ids: doc.ids, mask: doc.mask }));
        }
      },
      finish: () => emit(packer.flush()),
    };
  },
  emptyTrain: {
    isEmpty: (train) => train.sequences === 0,
    message: "the train split produced no sequences (no records, or none with a trained token)",
    fix: "Check the dataset has train records with assistant turns of weight 1, or compile with trainOn all.",
  },
};

/**
 * Renders, masks, tokenizes and packs each split into docs/shard-format.md shards. Streams: records are read
 * and encoded a batch at a time and sequences are written as they close. Atomic: everything is written into a
 * temporary sibling folder renamed into place at the end; on any failure it is removed and nothing changes.
 */
export async function compileShards(input: CompileInput): Promise<CompileResult> {
  return compileSplits(input, PACKED_LAYOUT);
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
