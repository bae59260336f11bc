import type { MetricUnit } from "../metrics/metric.js";
import { formatMetric } from "../report/format-values.js";

/**
 * Learning-curve math: quality measured at growing training-set sizes, a fitted curve, and what more data
 * would buy. Bounded metrics (fractions) fit a power law on the error, err(n) = c·n^(−α) — the shape
 * learning curves take in practice and one that never projects past 100%. Unbounded ones fit
 * y = a + b·ln n. Both are least squares in log space; R² says how much to trust the projection.
 */
export interface CurvePoint {
  fraction: number;
  examples: number;
  value: number;
  low?: number | null;
  high?: number | null;
  runId?: string;
}

export interface CurveFit {
  model: "power-law-error" | "log-linear";
  params: Record<string, number>;
  r2: number;
  projections: { examples: number; value: number }[];
  summary: string;
}

export interface LearningCurve {
  metric: string;
  unit: MetricUnit;
  points: CurvePoint[];
  fit: CurveFit | null;
}

function leastSquares(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number; r2: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept, r2 };
}

export function fitLearningCurve(points: readonly CurvePoint[], unit: MetricUnit, projectTo: readonly number[] = []): CurveFit | null {
  const usable = points.filter((p) => p.examples > 0 && Number.isFinite(p.value));
  if (new Set(usable.map((p) => p.examples)).size < 2) return null;
  const lnN = usable.map((p) => Math.log(p.examples));
  const largest = Math.max(...usable.map((p) => p.examples));
  const targets = projectTo.length ? projectTo : [largest * 2, largest * 4, largest * 10];
  let predict: (n: number) => number;
  let fit: Omit<CurveFit, "projections" | "summary">;
  if (unit === "fraction" && usable.every((p) => p.value < 1)) {
    const { slope, intercept, r2 } = leastSquares(
      lnN,
      usable.map((p) => Math.log(1 - p.value)),
    );
    const alpha = -slope;
    const c = Math.exp(intercept);
    predict = (n) => 1 - Math.min(1, c * n ** -alpha);
    fit = { model: "power-law-error", params: { c, alpha }, r2 };
  } else {
    const { slope, intercept, r2 } = leastSquares(
      lnN,
      usable.map((p) => p.value),
    );
    predict = (n) => intercept + slope * Math.log(n);
    fit = { model: "log-linear", params: { a: intercept, b: slope }, r2 };
  }
  const projections = targets.map((examples) => ({ examples, value: predict(examples) }));
  const current = predict(largest);
  const next = projections[0];
  const delta = unit === "fraction" ? (next.value - current) * 100 : next.value - current;
  const summary =
    `Fitted ${fit.model === "power-law-error" ? `error ∝ n^−${fit.params.alpha.toFixed(3)}` : `value = ${fit.params.a.toFixed(3)} + ${fit.params.b.toFixed(3)}·ln n`} (R² ${fit.r2.toFixed(2)}). ` +
    `Going from ${largest.toLocaleString("en-US")} to ${next.examples.toLocaleString("en-US")} training examples projects ${formatMetric(next.value, unit)} ` +
    `(${delta >= 0 ? "+" : ""}${delta.toFixed(1)} points)${fit.r2 < 0.8 ? "; the fit is loose, so treat this as a rough guide" : ""}.`;
  return { ...fit, projections, summary };
}

/** The training-set sizes for the given fractions of a split, each at least one example. */
export function curveSizes(trainSize: number, fractions: readonly number[]): { fraction: number; examples: number }[] {
  return fractions.map((fraction) => ({ fraction, examples: Math.max(1, Math.round(trainSize * fraction)) }));
}
