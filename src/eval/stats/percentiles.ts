/** Percentile with linear interpolation between closest ranks (numpy's default "linear" method). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarizeLatency(latenciesMs: readonly number[]): LatencySummary | null {
  if (latenciesMs.length === 0) return null;
  const s = [...latenciesMs].sort((a, b) => a - b);
  return {
    count: s.length,
    meanMs: s.reduce((a, b) => a + b, 0) / s.length,
    p50Ms: percentile(s, 50),
    p90Ms: percentile(s, 90),
    p95Ms: percentile(s, 95),
    p99Ms: percentile(s, 99),
    maxMs: s[s.length - 1],
  };
}
