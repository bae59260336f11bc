import type { MetricUnit } from "../metrics/metric.js";

/**
 * The comparison in plain words for a manager: who wins, by how much, how sure we are.
 * "fine-tuned beats best-prompt by 12.4 points accuracy, 95% CI [9.8, 15.1], p < 0.001"
 */
export interface Comparison {
  a: string;
  b: string;
  metric: string;
  unit: MetricUnit;
  difference: number;
  low: number;
  high: number;
  pValue: number;
  test: "mcnemar-exact" | "mcnemar-chi-square" | "paired-bootstrap";
}

export function toPoints(value: number, unit: MetricUnit): number {
  return unit === "fraction" ? value * 100 : value;
}

function fmt(v: number): string {
  return (Math.round(v * 10) / 10).toFixed(1);
}

export function formatP(p: number): string {
  if (p < 0.001) return "p < 0.001";
  return `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}

export function verdict(c: Comparison, alpha = 0.05): string {
  const scale = c.unit === "likert" ? " on the 1–5 scale" : c.unit === "fraction" ? " points" : " points";
  const d = toPoints(c.difference, c.unit);
  const lo = toPoints(c.low, c.unit);
  const hi = toPoints(c.high, c.unit);
  const ci = `95% CI [${fmt(lo)}, ${fmt(hi)}], ${formatP(c.pValue)}`;
  const significant = c.pValue < alpha && (lo > 0 || hi < 0);
  if (!significant) {
    return `no significant difference between ${c.a} and ${c.b} on ${c.metric}: ${c.a} ${d >= 0 ? "+" : "−"}${fmt(Math.abs(d))}${scale}, ${ci}`;
  }
  const [winner, loser] = d > 0 ? [c.a, c.b] : [c.b, c.a];
  const [l, h] = d > 0 ? [lo, hi] : [-hi, -lo];
  return `${winner} beats ${loser} by ${fmt(Math.abs(d))}${scale} ${c.metric}, 95% CI [${fmt(l)}, ${fmt(h)}], ${formatP(c.pValue)}`;
}
