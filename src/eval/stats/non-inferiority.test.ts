import { describe, expect, it } from "vitest";
import { nonInferiority, orientComparison } from "./non-inferiority.js";
import type { Comparison } from "./verdict.js";

const cmp = (difference: number, low: number, high: number, pValue: number): Comparison => ({ a: "new", b: "old", metric: "token_f1", unit: "fraction", difference, low, high, pValue, test: "paired-bootstrap" });

describe("nonInferiority", () => {
  it("is non-inferior when the CI's low end stays above −margin", () => {
    expect(nonInferiority(cmp(-0.005, -0.015, 0.005, 0.4), { candidate: "new", reference: "old", margin: 0.02 })).toEqual({
      outcome: "non-inferior", candidate: "new", reference: "old", metric: "token_f1", margin: 0.02, difference: -0.005, low: -0.015, high: 0.005, pValue: 0.4, significantlyWorse: false,
      text: "new is non-inferior to old: token_f1 -0.5 points, 95% CI [-1.5, 0.5], margin 2.0 (the CI stays above −2.0)",
    });
  });

  it("is inferior when the CI's high end is below −margin", () => {
    const v = nonInferiority(cmp(-0.1, -0.15, -0.05, 0.001), { candidate: "new", reference: "old", margin: 0.02 });
    expect([v.outcome, v.significantlyWorse, v.text]).toEqual(["inferior", true, "new is worse than old: token_f1 -10.0 points, 95% CI [-15.0, -5.0], margin 2.0"]);
  });

  it("is inferior when significantly worse even inside a generous margin", () => {
    const v = nonInferiority(cmp(-0.03, -0.05, -0.01, 0.01), { candidate: "new", reference: "old", margin: 0.2 });
    expect([v.outcome, v.text]).toEqual(["inferior", "new is worse than old: token_f1 -3.0 points, 95% CI [-5.0, -1.0], margin 20.0 (significantly worse)"]);
  });

  it("is inconclusive when the CI straddles −margin", () => {
    const v = nonInferiority(cmp(-0.01, -0.04, 0.02, 0.5), { candidate: "new", reference: "old", margin: 0.02 });
    expect(v.outcome).toBe("inconclusive");
  });

  it("orients a comparison stored as reference − candidate", () => {
    const stored = { ...cmp(0.1, 0.05, 0.15, 0.001), a: "old", b: "new" };
    expect(orientComparison(stored, "new", "old")).toEqual({ ...stored, a: "new", b: "old", difference: -0.1, low: -0.15, high: -0.05 });
    expect(nonInferiority(stored, { candidate: "new", reference: "old", margin: 0.02 }).outcome).toBe("inferior");
  });

  it("keeps a flipped tie at +0", () => {
    const v = nonInferiority({ ...cmp(0, 0, 0, 1), a: "old", b: "new" }, { candidate: "new", reference: "old", margin: 0.02 });
    expect([Object.is(v.difference, 0), Object.is(v.low, 0), v.text]).toEqual([true, true, "new is non-inferior to old: token_f1 +0.0 points, 95% CI [0.0, 0.0], margin 2.0 (the CI stays above −2.0)"]);
  });

  it("refuses a comparison of other candidates (EVAL_COMPARISON_MISMATCH)", () => {
    expect(() => nonInferiority(cmp(0, 0, 0, 1), { candidate: "gguf", reference: "old", margin: 0.02 })).toThrow(expect.objectContaining({ code: "EVAL_COMPARISON_MISMATCH" }));
  });

  it("refuses a negative margin (EVAL_BAD_MARGIN)", () => {
    expect(() => nonInferiority(cmp(0, 0, 0, 1), { candidate: "new", reference: "old", margin: -1 })).toThrow(expect.objectContaining({ code: "EVAL_BAD_MARGIN" }));
  });
});
