import type { MetricUnit } from "../metrics/metric.js";

/** Metric values as people read them: fractions as percentages, BLEU/chrF as 0–100, judge ratings as x.xx/5. */
export function formatMetric(value: number | null, unit: MetricUnit): string {
  if (value === null || !Number.isFinite(value)) return "–";
  if (unit === "fraction") return `${(value * 100).toFixed(1)}%`;
  if (unit === "likert") return value.toFixed(2);
  return value.toFixed(1);
}

export function formatUsd(value: number | null): string {
  if (value === null) return "–";
  if (value === 0) return "$0";
  if (value < 0.01) return `$${value.toPrecision(2)}`;
  return `$${value.toLocaleString("en-US", { maximumFractionDigits: 2, minimumFractionDigits: 2 })}`;
}

export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

export function unitMax(unit: MetricUnit): number {
  return unit === "fraction" ? 1 : unit === "likert" ? 5 : 100;
}
