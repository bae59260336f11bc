import type { Metric } from "./metric.js";

/**
 * ROUGE-L F-measure (Lin 2004, as in Google's rouge-score with beta=1): longest common subsequence of word
 * tokens. Tokens: lower-cased runs of Unicode letters and digits (rouge-score's default tokenizer keeps only
 * [a-z0-9], which erases non-Latin text entirely; we keep all scripts). No stemming.
 */
export function rougeTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Length of the longest common subsequence; O(n·m) time, O(m) memory. */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

export interface RougeLScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

export function rougeL(output: string, reference: string): RougeLScore {
  const pred = rougeTokens(output);
  const ref = rougeTokens(reference);
  if (pred.length === 0 || ref.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsLength(ref, pred);
  const precision = lcs / pred.length;
  const recall = lcs / ref.length;
  const fmeasure = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, fmeasure };
}

export const rougeLMetric: Metric = {
  name: "rouge_l",
  version: "rouge_l/1 (lcs f1, unicode words, lowercase, no stemming)",
  unit: "fraction",
  binary: false,
  describe: "ROUGE-L F-measure (longest common subsequence of words)",
  score: ({ example, output }) => {
    if (example.reference === null) return { value: null, detail: { skipped: "no reference" } };
    const s = rougeL(output, example.reference);
    return { value: s.fmeasure, detail: { precision: s.precision, recall: s.recall } };
  },
};
