import { describe, expect, it } from "vitest";
import { curveSizes, fitLearningCurve } from "./learning-curve.js";

describe("learning curve fit", () => {
  it("recovers an exact power law on the error and projects it", () => {
    // err = 2·n^−0.5 → n=100: 0.2, 400: 0.1, 1600: 0.05
    const points = [100, 400, 1600].map((n, i) => ({ fraction: [0.0625, 0.25, 1][i], examples: n, value: 1 - 2 * n ** -0.5 }));
    const fit = fitLearningCurve(points, "fraction", [6400])!;
    expect(fit.model).toBe("power-law-error");
    expect(fit.params.alpha).toBeCloseTo(0.5, 10);
    expect(fit.params.c).toBeCloseTo(2, 10);
    expect(fit.r2).toBeCloseTo(1, 10);
    expect(fit.projections[0].value).toBeCloseTo(0.975, 10);
    expect(fit.summary).toBe("Fitted error ∝ n^−0.500 (R² 1.00). Going from 1,600 to 6,400 training examples projects 97.5% (+2.5 points).");
  });
  it("fits log-linear for unbounded metrics and needs two distinct sizes", () => {
    const fit = fitLearningCurve([{ fraction: 0.5, examples: 10, value: 20 + 5 * Math.log(10) }, { fraction: 1, examples: 100, value: 20 + 5 * Math.log(100) }], "score100")!;
    expect(fit.model).toBe("log-linear");
    expect(fit.params.a).toBeCloseTo(20, 10);
    expect(fit.params.b).toBeCloseTo(5, 10);
    expect(fitLearningCurve([{ fraction: 1, examples: 10, value: 0.5 }], "fraction")).toBeNull();
  });
  it("sizes the fractions of a split", () => {
    expect(curveSizes(1003, [0.1, 0.25, 0.5, 1])).toEqual([
      { fraction: 0.1, examples: 100 },
      { fraction: 0.25, examples: 251 },
      { fraction: 0.5, examples: 502 },
      { fraction: 1, examples: 1003 },
    ]);
  });
});
