import { createRandom } from "../../runtime/index.js";
import { percentile } from "./percentiles.js";

/**
 * Percentile bootstrap. A statistic is computed from resampled example indices, which covers both means of
 * per-example values and corpus metrics (BLEU, chrF, macro-F1) recomputed from resampled sufficient
 * statistics. Seeded: the same inputs and seed give the same interval.
 */
export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  /** Two-sided confidence level, default 0.95. */
  confidence?: number;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/** A statistic over a multiset of example indices given as draw counts (counts[i] = times example i was drawn). */
export type WeightedStatistic = (counts: Uint32Array | null) => number;

function drawCounts(n: number, rnd: () => number, into: Uint32Array): Uint32Array {
  into.fill(0);
  for (let k = 0; k < n; k++) into[Math.floor(rnd() * n)] += 1;
  return into;
}

/** Resampled values of `statistic`; `null` counts means "the original sample". */
export function bootstrapDistribution(n: number, statistic: WeightedStatistic, options: BootstrapOptions = {}): number[] {
  const resamples = options.resamples ?? 2000;
  const rnd = createRandom(options.seed ?? 12345).next;
  const counts = new Uint32Array(n);
  const out: number[] = [];
  for (let r = 0; r < resamples; r++) out.push(statistic(drawCounts(n, rnd, counts)));
  return out;
}

export function intervalFrom(estimate: number, distribution: readonly number[], confidence = 0.95): Interval {
  const finite = distribution.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const tail = ((1 - confidence) / 2) * 100;
  return { estimate, low: percentile(finite, tail), high: percentile(finite, 100 - tail) };
}

/** Mean of values with a bootstrap CI. */
export function bootstrapMean(values: readonly number[], options: BootstrapOptions = {}): Interval {
  const n = values.length;
  if (n === 0) return { estimate: Number.NaN, low: Number.NaN, high: Number.NaN };
  const mean = (counts: Uint32Array | null) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[i] * (counts ? counts[i] : 1);
    return s / n;
  };
  return intervalFrom(mean(null), bootstrapDistribution(n, mean, options), options.confidence);
}

/**
 * A corpus statistic from per-example stat rows: rows are summed with the draw counts as weights, then
 * `aggregate` turns the sum into the metric. Rows are kept sparse (macro-F1 rows have ≤ 2 non-zeros out of
 * 3 × labels), so a resample costs O(non-zeros), not O(n × width).
 */
export function corpusStatistic(rows: readonly (readonly number[])[], aggregate: (sum: number[]) => number): WeightedStatistic {
  const width = rows[0]?.length ?? 0;
  const idx: number[][] = [];
  const val: number[][] = [];
  for (const row of rows) {
    const is: number[] = [];
    const vs: number[] = [];
    row.forEach((v, j) => {
      if (v !== 0) {
        is.push(j);
        vs.push(v);
      }
    });
    idx.push(is);
    val.push(vs);
  }
  const sum = new Array<number>(width);
  return (counts) => {
    sum.fill(0);
    for (let i = 0; i < rows.length; i++) {
      const w = counts ? counts[i] : 1;
      if (w === 0) continue;
      const is = idx[i];
      const vs = val[i];
      for (let k = 0; k < is.length; k++) sum[is[k]] += vs[k] * w;
    }
    return aggregate(sum);
  };
}

export function bootstrapStatistic(n: number, statistic: WeightedStatistic, options: BootstrapOptions = {}): Interval {
  if (n === 0) return { estimate: Number.NaN, low: Number.NaN, high: Number.NaN };
  return intervalFrom(statistic(null), bootstrapDistribution(n, statistic, options), options.confidence);
}

export interface PairedResult extends Interval {
  /** Two-sided p-value for "no difference": share of resampled differences on the other side of zero, doubled. */
  pValue: number;
  resamples: number;
}

/**
 * Paired bootstrap (Koehn 2004): the same resampled examples for both candidates, so per-example difficulty
 * cancels. `statA`/`statB` compute each candidate's metric from draw counts over the shared example order.
 */
export function pairedBootstrap(n: number, statA: WeightedStatistic, statB: WeightedStatistic, options: BootstrapOptions = {}): PairedResult {
  const resamples = options.resamples ?? 2000;
  const diff: WeightedStatistic = (c) => statA(c) - statB(c);
  const observed = diff(null);
  const dist = bootstrapDistribution(n, diff, { ...options, resamples });
  const interval = intervalFrom(observed, dist, options.confidence);
  // Counting resamples at or beyond zero, with +1 smoothing so p is never reported as exactly 0.
  const other = dist.filter((d) => (observed >= 0 ? d <= 0 : d >= 0)).length;
  const pValue = Math.min(1, (2 * (other + 1)) / (resamples + 1));
  return { ...interval, pValue, resamples };
}
