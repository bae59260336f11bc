import { bootstrapMean, percentile } from "../eval/index.js";
import { UsageError } from "../errors/index.js";
import { isFailure, mergeFeedback } from "./feedback-export.js";
import type { FeedbackRecord, RequestRecord } from "./records.js";

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 via erf; |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Inverse normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155211122];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Wilson score interval for a proportion. */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): { low: number; high: number } {
  if (n === 0) return { low: Number.NaN, high: Number.NaN };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = successes / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export interface TwoProportionResult {
  diff: number;
  z: number;
  p: number;
  ciLow: number;
  ciHigh: number;
}

/** Two-sided two-proportion z-test (pooled SE for the test, unpooled for the CI of the difference). */
export function twoProportionTest(s1: number, n1: number, s2: number, n2: number, confidence = 0.95): TwoProportionResult {
  const p1 = s1 / n1;
  const p2 = s2 / n2;
  const pooled = (s1 + s2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = se === 0 ? 0 : (p2 - p1) / se;
  const seDiff = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  const q = normalQuantile(1 - (1 - confidence) / 2);
  return { diff: p2 - p1, z, p: 2 * (1 - normalCdf(Math.abs(z))), ciLow: p2 - p1 - q * seDiff, ciHigh: p2 - p1 + q * seDiff };
}

/** Requests per variant to detect an absolute change `mde` from `baseline` (two-sided, two-proportion z-test). */
export function requiredSampleSize(input: { baseline: number; mde: number; alpha?: number; power?: number }): number {
  const { baseline: p1, mde } = input;
  const p2 = p1 + mde;
  if (!(p1 > 0 && p1 < 1) || !(p2 > 0 && p2 < 1) || mde === 0) {
    throw new UsageError("GATEWAY_BAD_POWER_INPUT", `baseline ${p1} and baseline+mde ${p2} must both lie strictly between 0 and 1, and mde must not be 0`, {
      fix: "pass rates as fractions, e.g. --baseline 0.7 --mde 0.05",
    });
  }
  const za = normalQuantile(1 - (input.alpha ?? 0.05) / 2);
  const zb = normalQuantile(input.power ?? 0.8);
  const pBar = (p1 + p2) / 2;
  const n = (za * Math.sqrt(2 * pBar * (1 - pBar)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (mde * mde);
  return Math.ceil(n);
}

export interface VariantOutcome {
  variant: string;
  n: number;
  successes: number;
  rate: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  feedbackMean: number | null;
  feedbackCi: [number, number] | null;
  latencyP50: number | null;
  latencyP95: number | null;
  costUsd: number;
}

export interface ExperimentAnalysis {
  metric: "success" | "feedback";
  variants: VariantOutcome[];
  comparisons: (TwoProportionResult & { variant: string; control: string; significant: boolean })[];
}

/**
 * Per-variant outcomes of an experiment. success: the request succeeded and got no failure feedback; feedback:
 * only requests with a score, success = score ≥ 0.5. The first variant seen in config order is the control;
 * every other is compared with it (z-test on the rates, Wilson CIs; bootstrap CI of the mean feedback score).
 */
export function analyzeExperiment(requests: readonly RequestRecord[], feedback: readonly FeedbackRecord[], options: { metric?: "success" | "feedback"; alpha?: number; order?: readonly string[] } = {}): ExperimentAnalysis {
  const metric = options.metric ?? "success";
  const fb = mergeFeedback(feedback);
  const groups = new Map<string, RequestRecord[]>();
  for (const r of requests) if (r.variant) groups.set(r.variant, [...(groups.get(r.variant) ?? []), r]);
  const names = [...(options.order ?? []).filter((v) => groups.has(v)), ...[...groups.keys()].filter((v) => !options.order?.includes(v))];
  const variants = names.map((variant): VariantOutcome => {
    const rs = groups.get(variant)!;
    const scores = rs.map((r) => fb.get(r.id)?.score).filter((s): s is number => s !== null && s !== undefined);
    let n = 0;
    let successes = 0;
    for (const r of rs) {
      const f = fb.get(r.id);
      if (metric === "feedback") {
        if (f?.score === null || f?.score === undefined) continue;
        n += 1;
        if (f.score >= 0.5) successes += 1;
      } else {
        n += 1;
        if (r.status < 400 && !(f && isFailure(f, {}))) successes += 1;
      }
    }
    const ci = wilsonInterval(successes, n, 1 - (options.alpha ?? 0.05));
    const lat = rs.map((r) => r.latencyMs).sort((a, b) => a - b);
    const boot = scores.length >= 2 ? bootstrapMean(scores, { seed: 7 }) : null;
    return {
      variant, n, successes,
      rate: n ? successes / n : null, ciLow: n ? ci.low : null, ciHigh: n ? ci.high : null,
      feedbackMean: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null,
      feedbackCi: boot ? [boot.low, boot.high] : null,
      latencyP50: lat.length ? percentile(lat, 50) : null,
      latencyP95: lat.length ? percentile(lat, 95) : null,
      costUsd: rs.reduce((s, r) => s + (r.costUsd ?? 0), 0),
    };
  });
  const control = variants[0];
  const comparisons = variants.slice(1).filter((v) => v.n > 0 && control && control.n > 0).map((v) => {
    const t = twoProportionTest(control.successes, control.n, v.successes, v.n, 1 - (options.alpha ?? 0.05));
    return { ...t, variant: v.variant, control: control.variant, significant: t.p < (options.alpha ?? 0.05) };
  });
  return { metric, variants, comparisons };
}
