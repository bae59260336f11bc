/** Distribution summary of a list of numbers (sorted copy; the input is not modified). */
export interface Distribution {
  count: number;
  total: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(values: ArrayLike<number>): Distribution {
  const n = values.length;
  if (n === 0) return { count: 0, total: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  for (let i = 0; i < n; i++) total += sorted[i];
  const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * (n - 1) + 0.5))];
  return { count: n, total, mean: Math.round((total / n) * 10) / 10, min: sorted[0], p50: q(0.5), p90: q(0.9), p99: q(0.99), max: sorted[n - 1] };
}
