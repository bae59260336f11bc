import type { Metric } from "./metric.js";
import { normalizeAnswer, splitPython } from "./text-normalize.js";

/** 1 when the output equals the reference character for character (after trimming surrounding whitespace). */
export function exactMatch(output: string, reference: string): number {
  return output.trim() === reference.trim() ? 1 : 0;
}

/** SQuAD exact match: 1 when the normalised answers are equal. */
export function normalizedMatch(output: string, reference: string): number {
  return normalizeAnswer(output) === normalizeAnswer(reference) ? 1 : 0;
}

/** SQuAD token F1 over normalised tokens (multiset overlap); both empty → 1, one empty → 0. */
export function tokenF1(output: string, reference: string): number {
  const pred = splitPython(normalizeAnswer(output));
  const gold = splitPython(normalizeAnswer(reference));
  if (pred.length === 0 || gold.length === 0) return pred.length === gold.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of gold) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of pred) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same += 1;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / pred.length;
  const recall = same / gold.length;
  return (2 * precision * recall) / (precision + recall);
}

function referenceMetric(name: string, version: string, binary: boolean, describe: string, fn: (o: string, r: string) => number): Metric {
  return {
    name,
    version,
    unit: "fraction",
    binary,
    describe,
    score: ({ example, output }) => (example.reference === null ? { value: null, detail: { skipped: "no reference" } } : { value: fn(output, example.reference) }),
  };
}

export const exactMatchMetric = referenceMetric("exact_match", "exact_match/1", true, "output equals the reference (surrounding whitespace ignored)", exactMatch);
export const normalizedMatchMetric = referenceMetric(
  "normalized_match",
  "normalized_match/1 (squad)",
  true,
  "SQuAD-normalised output equals the normalised reference",
  normalizedMatch,
);
export const tokenF1Metric = referenceMetric("token_f1", "token_f1/1 (squad)", false, "SQuAD token F1 between output and reference", tokenF1);
