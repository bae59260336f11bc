import type { ChatRecord, Message, PreferenceRecord } from "../data/index.js";
import { buildExamples, type ExampleOptions, type TokenizedExample } from "./build-example.js";

/** One preference record as two token sequences sharing a prompt; masks mark the completion tokens only. */
export interface TokenizedPair {
  chosen: { ids: number[]; mask: Uint8Array };
  rejected: { ids: number[]; mask: Uint8Array };
  /** Tokens removed to fit seqLen, over both sequences. */
  cut: number;
}

/**
 * The chosen and rejected conversations of a preference record as chat records: the prompt (input.messages) is
 * never trained, so an assistant turn inside it gets weight 0; the completion (preferred_output or
 * non_preferred_output) is trained as SFT trains an assistant turn (its end-of-turn token included).
 */
export function pairConversations(record: PreferenceRecord): [ChatRecord, ChatRecord] {
  const prompt: Message[] = record.input.messages.map((m) => (m.role === "assistant" ? { ...m, weight: 0 } : m));
  const tools = record.input.tools ? { tools: record.input.tools } : {};
  return [
    { messages: [...prompt, ...record.preferred_output], ...tools },
    { messages: [...prompt, ...record.non_preferred_output], ...tools },
  ];
}

/**
 * Renders and tokenizes preference records into pairs with SFT's chat template, BOS rule and masks
 * (build-example.ts), one batched encode for all of them. Options' trainOn is ignored: only completions train.
 */
export async function buildPairs(records: readonly PreferenceRecord[], options: ExampleOptions): Promise<Array<{ chosen: TokenizedExample; rejected: TokenizedExample }>> {
  const examples = await buildExamples(records.flatMap(pairConversations), { ...options, trainOn: "assistant" });
  return records.map((_, i) => ({ chosen: examples[2 * i], rejected: examples[2 * i + 1] }));
}

/** Index of the first trained token: the prompt is ids[0, promptLength). */
function promptLength(mask: ArrayLike<number>): number {
  for (let t = 0; t < mask.length; t++) if (mask[t]) return t;
  return mask.length;
}

/**
 * Fits a pair into seqLen tokens per sequence (TRL's rule): first the shared prompt loses tokens from its left
 * (after a leading BOS, which is kept, and never its last token, so the first completion token stays a target),
 * the same count in both sequences; if a sequence is still too long, its completion is cut from the right.
 * With policy "drop" a pair that does not fit is left out (null).
 */
export function fitPair(
  pair: { chosen: Pick<TokenizedExample, "ids" | "mask">; rejected: Pick<TokenizedExample, "ids" | "mask"> },
  seqLen: number,
  policy: "truncate" | "drop",
  bosId: number | null,
): TokenizedPair | null {
  const { chosen, rejected } = pair;
  const over = Math.max(chosen.ids.length, rejected.ids.length) - seqLen;
  if (over <= 0) return { chosen: { ids: chosen.ids, mask: chosen.mask }, rejected: { ids: rejected.ids, mask: rejected.mask }, cut: 0 };
  if (policy === "drop") return null;
  const keep = bosId !== null && chosen.ids[0] === bosId ? 1 : 0;
  const removable = Math.max(0, Math.min(promptLength(chosen.mask), promptLength(rejected.mask)) - keep - 1);
  const promptCut = Math.min(over, removable);
  let cut = 0;
  const fit = (seq: Pick<TokenizedExample, "ids" | "mask">) => {
    const ids = [...seq.ids.slice(0, keep), ...seq.ids.slice(keep + promptCut)].slice(0, seqLen);
    const mask = new Uint8Array(ids.length);
    mask.set(seq.mask.subarray(0, keep));
    mask.set(seq.mask.subarray(keep + promptCut, keep + promptCut + ids.length - keep), keep);
    cut += seq.ids.length - ids.length;
    return { ids, mask };
  };
  return { chosen: fit(chosen), rejected: fit(rejected), cut };
}
