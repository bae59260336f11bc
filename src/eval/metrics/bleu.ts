import type { Metric } from "./metric.js";
import { rstripPython, splitPython } from "./text-normalize.js";
import { tokenize13a } from "./tokenizer-13a.js";

/**
 * BLEU exactly as sacrebleu 2.x computes it with its defaults: 13a tokenisation, no lower-casing, max n-gram
 * order 4, "exp" smoothing, brevity penalty against the closest reference length. Corpus BLEU is computed
 * from statistics summed over segments (not a mean of sentence scores); sentence BLEU uses effective order,
 * as sacrebleu's sentence_bleu does.
 *
 * Segment statistics layout (sacrebleu's): [hyp_len, ref_len, correct_1..4, total_1..4].
 */
export const BLEU_MAX_ORDER = 4;
export type SmoothMethod = "none" | "floor" | "add-k" | "exp";
const SMOOTH_DEFAULTS: Record<SmoothMethod, number | undefined> = { none: undefined, floor: 0.1, "add-k": 1, exp: undefined };

export interface BleuOptions {
  smoothMethod?: SmoothMethod;
  smoothValue?: number;
  effectiveOrder?: boolean;
  lowercase?: boolean;
}

export interface BleuScore {
  score: number;
  precisions: number[];
  bp: number;
  sysLen: number;
  refLen: number;
  counts: number[];
  totals: number[];
}

function wordNgrams(tokens: readonly string[], maxOrder: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      // JSON keeps keys unambiguous whatever characters a token holds; the order prefixes it.
      const key = `${n}:${JSON.stringify(tokens.slice(i, i + n))}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

function preprocess(text: string, lowercase: boolean): string[] {
  return splitPython(tokenize13a(rstripPython(lowercase ? text.toLowerCase() : text)));
}

/** sacrebleu's per-segment statistics for one hypothesis against one or more references. */
export function bleuSegmentStats(hypothesis: string, references: readonly string[], lowercase = false): number[] {
  const refMax = new Map<string, number>();
  const refLens: number[] = [];
  for (const ref of references) {
    const tokens = preprocess(ref, lowercase);
    refLens.push(tokens.length);
    for (const [k, c] of wordNgrams(tokens, BLEU_MAX_ORDER)) refMax.set(k, Math.max(refMax.get(k) ?? 0, c));
  }
  const hyp = preprocess(hypothesis, lowercase);
  const hypLen = hyp.length;
  // Closest reference length; ties go to the shorter reference (sacrebleu sorts by (|diff|, len)).
  let refLen = refLens[0] ?? 0;
  for (const len of refLens) {
    const d = Math.abs(len - hypLen);
    const best = Math.abs(refLen - hypLen);
    if (d < best || (d === best && len < refLen)) refLen = len;
  }
  const correct = new Array<number>(BLEU_MAX_ORDER).fill(0);
  const total = new Array<number>(BLEU_MAX_ORDER).fill(0);
  for (const [k, c] of wordNgrams(hyp, BLEU_MAX_ORDER)) {
    const n = Number(k.slice(0, k.indexOf(":"))) - 1;
    total[n] += c;
    const r = refMax.get(k);
    if (r !== undefined) correct[n] += Math.min(c, r);
  }
  return [hypLen, refLen, ...correct, ...total];
}

function myLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/** sacrebleu's BLEU.compute_bleu, including its early exit when nothing matched. */
export function bleuFromStats(stats: readonly number[], options: BleuOptions = {}): BleuScore {
  const smoothMethod = options.smoothMethod ?? "exp";
  const smoothValue = options.smoothValue ?? SMOOTH_DEFAULTS[smoothMethod] ?? 0;
  const sysLen = stats[0];
  const refLen = stats[1];
  const correct = stats.slice(2, 2 + BLEU_MAX_ORDER);
  const total = stats.slice(2 + BLEU_MAX_ORDER, 2 + 2 * BLEU_MAX_ORDER);
  const counts = [...correct];
  const totals = [...total];
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(BLEU_MAX_ORDER).fill(0);
  if (!correct.some((c) => c !== 0)) return { score: 0, precisions, bp, sysLen, refLen, counts, totals };
  let smoothMteval = 1;
  let effOrder = BLEU_MAX_ORDER;
  for (let n = 1; n <= BLEU_MAX_ORDER; n++) {
    if (smoothMethod === "add-k" && n > 1) {
      correct[n - 1] += smoothValue;
      total[n - 1] += smoothValue;
    }
    if (total[n - 1] === 0) break;
    if (options.effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      if (smoothMethod === "exp") {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * total[n - 1]);
      } else if (smoothMethod === "floor") {
        precisions[n - 1] = (100 * smoothValue) / total[n - 1];
      }
    } else {
      precisions[n - 1] = (100 * correct[n - 1]) / total[n - 1];
    }
  }
  let logSum = 0;
  for (const p of precisions.slice(0, effOrder)) logSum += myLog(p);
  return { score: bp * Math.exp(logSum / effOrder), precisions, bp, sysLen, refLen, counts, totals };
}

/** Corpus BLEU (sacrebleu.corpus_bleu with one reference stream per entry of `references[i]`). */
export function corpusBleu(hypotheses: readonly string[], references: readonly (readonly string[])[], options: BleuOptions = {}): BleuScore {
  const sum = new Array<number>(2 + 2 * BLEU_MAX_ORDER).fill(0);
  hypotheses.forEach((h, i) => bleuSegmentStats(h, references[i], options.lowercase).forEach((v, j) => (sum[j] += v)));
  return bleuFromStats(sum, options);
}

/** sacrebleu.sentence_bleu: exp smoothing with effective order. */
export function sentenceBleu(hypothesis: string, references: readonly string[], options: BleuOptions = {}): BleuScore {
  return bleuFromStats(bleuSegmentStats(hypothesis, references, options.lowercase), { effectiveOrder: true, ...options });
}

export const bleuMetric: Metric = {
  name: "bleu",
  version: "bleu/1 (sacrebleu 2.x: nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp)",
  unit: "score100",
  binary: false,
  describe: "corpus BLEU (sacrebleu defaults); per-example values are sentence BLEU",
  score: ({ example, output }) => {
    if (example.reference === null) return { value: null, detail: { skipped: "no reference" } };
    const stats = bleuSegmentStats(output, [example.reference]);
    return { value: bleuFromStats(stats, { effectiveOrder: true }).score, stats };
  },
  aggregate: (summed) => bleuFromStats(summed).score,
};
