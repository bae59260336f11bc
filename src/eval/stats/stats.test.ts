import { describe, expect, it } from "vitest";
import { bootstrapMean, bootstrapStatistic, corpusStatistic, pairedBootstrap } from "./bootstrap.js";
import { summarizeCost } from "./cost.js";
import { binomialTwoSided, chiSquare1Sf, mcnemar, mcnemarFromCounts } from "./mcnemar.js";
import { percentile, summarizeLatency } from "./percentiles.js";
import { verdict } from "./verdict.js";

describe("McNemar", () => {
  it("uses the chi-square test with continuity correction for large discordant counts", () => {
    // Textbook table (Wikipedia, McNemar's test): b=121, c=59 → χ² = (|121−59|−1)²/180 = 20.672
    const r = mcnemarFromCounts(121, 59, 314);
    expect(r.method).toBe("chi-square");
    expect(r.statistic).toBeCloseTo(3721 / 180, 10);
    expect(r.pValue).toBeCloseTo(5.45e-6, 7);
    expect(r.oddsRatio).toBeCloseTo(121 / 59, 12);
  });
  it("uses the exact binomial test for small counts", () => {
    // b=1, c=6: 2·(C(7,0)+C(7,1))/2^7 = 16/128
    expect(mcnemarFromCounts(1, 6, 20)).toEqual({ b: 1, c: 6, n: 20, method: "exact", statistic: null, pValue: 0.125, accuracyDifference: -0.25, oddsRatio: 1 / 6 });
    expect(binomialTwoSided(5, 10)).toBe(1);
    expect(mcnemar([1, 1, 0, 0], [1, 0, 0, 1])).toMatchObject({ b: 1, c: 1, pValue: 1 });
  });
  it("chi-square survival function matches known quantiles", () => {
    expect(chiSquare1Sf(3.841458820694124)).toBeCloseTo(0.05, 6);
    expect(chiSquare1Sf(6.634896601021214)).toBeCloseTo(0.01, 6);
  });
});

describe("bootstrap", () => {
  const values = Array.from({ length: 200 }, (_, i) => (i % 10 < 7 ? 1 : 0));
  it("gives a CI that contains the mean and is deterministic for a seed", () => {
    const a = bootstrapMean(values, { seed: 7 });
    expect(a.estimate).toBeCloseTo(0.7, 12);
    expect(a.low).toBeLessThan(0.7);
    expect(a.high).toBeGreaterThan(0.7);
    // normal approximation: ±1.96·sqrt(.21/200) ≈ ±0.0635
    expect(a.high - a.low).toBeGreaterThan(0.1);
    expect(a.high - a.low).toBeLessThan(0.15);
    expect(bootstrapMean(values, { seed: 7 })).toEqual(a);
    expect(bootstrapMean(values, { seed: 8 })).not.toEqual(a);
  });
  it("resamples corpus statistics from sparse rows", () => {
    const rows = [
      [1, 2],
      [0, 2],
      [1, 2],
    ];
    const stat = corpusStatistic(rows, ([hit, total]) => hit / total);
    expect(stat(null)).toBeCloseTo(1 / 3, 12);
    expect(stat(new Uint32Array([3, 0, 0]))).toBe(0.5);
    const ci = bootstrapStatistic(3, stat, { seed: 1, resamples: 500 });
    expect(ci.low).toBeGreaterThanOrEqual(0);
    expect(ci.high).toBeLessThanOrEqual(0.5);
  });
  it("paired bootstrap finds a real difference and not a fake one", () => {
    const a = values;
    const b = values.map((v, i) => (i % 10 === 0 ? 0 : v)); // b loses 20 examples
    const meanOf = (xs: number[]) => (c: Uint32Array | null) => xs.reduce((s, x, i) => s + x * (c ? c[i] : 1), 0) / xs.length;
    const r = pairedBootstrap(200, meanOf(a), meanOf(b), { seed: 3 });
    expect(r.estimate).toBeCloseTo(0.1, 12);
    expect(r.low).toBeGreaterThan(0);
    expect(r.pValue).toBeLessThan(0.01);
    const same = pairedBootstrap(200, meanOf(a), meanOf(a), { seed: 3 });
    expect(same).toMatchObject({ estimate: 0, low: 0, high: 0, pValue: 1 });
  });
});

describe("latency and cost", () => {
  it("interpolates percentiles like numpy", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(summarizeLatency([10, 20, 30, 40, 50])).toEqual({ count: 5, meanMs: 30, p50Ms: 30, p90Ms: 46, p95Ms: 48, p99Ms: 49.6, maxMs: 50 });
  });
  it("computes cost per request, per correct answer and per month", () => {
    const rows = [
      { promptTokens: 1000, completionTokens: 100, correct: true },
      { promptTokens: 3000, completionTokens: 300, correct: false },
    ];
    // $2.50/M in, $10/M out: 0.0025+0.001 = 0.0035; 0.0075+0.003 = 0.0105 → mean 0.007
    const s = summarizeCost(rows, { inputPerMTok: 2.5, outputPerMTok: 10, perRequest: 0 }, 100_000);
    expect(s.costPerRequestUsd).toBeCloseTo(0.007, 12);
    expect(s.costPerCorrectUsd).toBeCloseTo(0.014, 12);
    expect(s.monthlyCostUsd).toBeCloseTo(700, 9);
    expect(s.meanPromptTokens).toBe(2000);
  });
});

describe("verdict", () => {
  it("says who wins in plain words", () => {
    expect(verdict({ a: "fine-tuned", b: "best prompt", metric: "accuracy", unit: "fraction", difference: 0.1243, low: 0.098, high: 0.151, pValue: 0.0002, test: "mcnemar-chi-square" })).toBe(
      "fine-tuned beats best prompt by 12.4 points accuracy, 95% CI [9.8, 15.1], p < 0.001",
    );
    expect(verdict({ a: "base", b: "tuned", metric: "chrF", unit: "score100", difference: -3.21, low: -5, high: -1.5, pValue: 0.004, test: "paired-bootstrap" })).toBe(
      "tuned beats base by 3.2 points chrF, 95% CI [1.5, 5.0], p = 0.004",
    );
    expect(verdict({ a: "a", b: "b", metric: "accuracy", unit: "fraction", difference: 0.01, low: -0.01, high: 0.03, pValue: 0.3, test: "mcnemar-exact" })).toBe(
      "no significant difference between a and b on accuracy: a +1.0 points, 95% CI [-1.0, 3.0], p = 0.30",
    );
  });
});
