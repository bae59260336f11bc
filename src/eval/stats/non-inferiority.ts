import { UsageError } from "../../errors/index.js";
import { toPoints, type Comparison } from "./verdict.js";

/**
 * Non-inferiority of a candidate against a reference on a paired comparison. The question is not "is the new
 * model better" but "is it at most `margin` worse": with d = candidate − reference and its 95% CI [low, high],
 *   non-inferior  when low > −margin  (even the pessimistic end of the CI loses less than the margin),
 *   inferior      when high < −margin (even the optimistic end loses more than the margin), or when the
 *                 candidate is significantly worse (p < alpha and high < 0): a gate must not promote a model the
 *                 data say is worse, however small the margin was set,
 *   inconclusive  otherwise (the CI straddles −margin: more test examples are needed).
 * The margin is in the metric's own units (0.02 = 2 points of a fraction metric such as token_f1).
 */
export type NonInferiorityOutcome = "non-inferior" | "inferior" | "inconclusive";

export interface NonInferiorityVerdict {
  outcome: NonInferiorityOutcome;
  candidate: string;
  reference: string;
  metric: string;
  margin: number;
  /** candidate − reference, with its CI. */
  difference: number;
  low: number;
  high: number;
  pValue: number;
  /** Significantly worse by the comparison's own test (p < alpha and the whole CI below 0). */
  significantlyWorse: boolean;
  text: string;
}

/** The comparison oriented as candidate − reference (summaries store a − b for a pair in candidate order). */
export function orientComparison(c: Comparison, candidate: string, reference: string): Comparison {
  if (c.a === candidate && c.b === reference) return c;
  // 0 − x, not −x: a tie flipped must stay +0 (−0 prints as "-0.0" and fails equality with 0).
  if (c.a === reference && c.b === candidate) return { ...c, a: candidate, b: reference, difference: 0 - c.difference, low: 0 - c.high, high: 0 - c.low };
  throw new UsageError("EVAL_COMPARISON_MISMATCH", `the comparison is between ${c.a} and ${c.b}, not ${candidate} and ${reference}`, {
    fix: `pass --candidate and --reference among: ${c.a}, ${c.b}`,
  });
}

export function nonInferiority(comparison: Comparison, input: { candidate: string; reference: string; margin: number; alpha?: number }): NonInferiorityVerdict {
  if (!Number.isFinite(input.margin) || input.margin < 0) {
    throw new UsageError("EVAL_BAD_MARGIN", `the non-inferiority margin must be a number ≥ 0 (got ${input.margin})`, { fix: "pass --margin 0.02 (in the metric's units: 0.02 = 2 points of a fraction metric)" });
  }
  const c = orientComparison(comparison, input.candidate, input.reference);
  const alpha = input.alpha ?? 0.05;
  const m = input.margin;
  const significantlyWorse = c.pValue < alpha && c.high < 0;
  const outcome: NonInferiorityOutcome = c.high < -m || significantlyWorse ? "inferior" : c.low > -m ? "non-inferior" : "inconclusive";
  const pts = (v: number) => (Math.round(toPoints(v, c.unit) * 10) / 10).toFixed(1);
  const ci = `${c.metric} ${c.difference >= 0 ? "+" : ""}${pts(c.difference)} points, 95% CI [${pts(c.low)}, ${pts(c.high)}], margin ${pts(m)}`;
  const text = {
    "non-inferior": `${c.a} is non-inferior to ${c.b}: ${ci} (the CI stays above −${pts(m)})`,
    inferior: `${c.a} is worse than ${c.b}: ${ci}${significantlyWorse && c.high >= -m ? " (significantly worse)" : ""}`,
    inconclusive: `non-inferiority of ${c.a} to ${c.b} is inconclusive: ${ci} (the CI straddles −${pts(m)}; evaluate on more examples)`,
  }[outcome];
  return { outcome, candidate: c.a, reference: c.b, metric: c.metric, margin: m, difference: c.difference, low: c.low, high: c.high, pValue: c.pValue, significantlyWorse, text };
}
