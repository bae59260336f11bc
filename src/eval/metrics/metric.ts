/**
 * A metric scores one candidate output against one example. Every metric has a stable name and a version
 * string (bumped whenever its numbers could change) so an eval run records exactly what produced its figures.
 *
 * Most metrics are means of per-example values. Corpus metrics (BLEU, chrF, macro-F1) are not: they are
 * computed from per-example sufficient statistics summed over the corpus (`aggregate`), which is also how the
 * bootstrap resamples them.
 */
export interface EvalExample {
  /** Stable id within the dataset version (index when the record has none). */
  id: string;
  /** The user turn(s) the candidate answers, flattened to text. */
  input: string;
  /** The reference answer (last assistant turn), or null when the example has none. */
  reference: string | null;
  /** Conversation before the final assistant turn, for candidates that take chat messages. */
  messages?: { role: "system" | "user" | "assistant"; content: string }[];
  metadata?: Record<string, unknown>;
}

/** How a metric's values are read: `fraction` 0..1 (shown as %), `score100` 0..100, `likert` 1..5. */
export type MetricUnit = "fraction" | "score100" | "likert";

export interface ExampleScore {
  /** The example's value; null when the metric does not apply (e.g. judge failed). */
  value: number | null;
  /** Sufficient statistics for corpus metrics (summed over examples, then `aggregate`d). */
  stats?: number[];
  /** Anything worth showing beside the value (mapped label, parse error, judge reasons). */
  detail?: Record<string, unknown>;
}

export interface MetricContext {
  example: EvalExample;
  output: string;
  /** Other candidates' outputs for the same example, by candidate name (pairwise judging). */
  peers?: Readonly<Record<string, string | null>>;
}

export interface Metric {
  name: string;
  version: string;
  unit: MetricUnit;
  /** True when values are 0/1 outcomes: paired comparisons use McNemar. */
  binary: boolean;
  describe: string;
  score(ctx: MetricContext): ExampleScore | Promise<ExampleScore>;
  /** Corpus-level value from summed per-example stats; absent → mean of per-example values. */
  aggregate?(summedStats: number[]): number;
}

/** Sums equal-length stat vectors (the corpus statistics of a corpus metric). */
export function sumStats(rows: readonly (readonly number[])[], width?: number): number[] {
  const n = width ?? rows[0]?.length ?? 0;
  const total = new Array<number>(n).fill(0);
  for (const row of rows) for (let i = 0; i < n; i++) total[i] += row[i] ?? 0;
  return total;
}

/** The metric's corpus value over the given per-example scores (null values are skipped). */
export function aggregateScores(metric: Metric, scores: readonly ExampleScore[]): number | null {
  if (metric.aggregate) {
    const rows = scores.filter((s) => s.stats).map((s) => s.stats as number[]);
    if (rows.length === 0) return null;
    return metric.aggregate(sumStats(rows));
  }
  let sum = 0;
  let n = 0;
  for (const s of scores) {
    if (s.value === null) continue;
    sum += s.value;
    n += 1;
  }
  return n === 0 ? null : sum / n;
}
