import { describe, expect, it } from "vitest";
import type { CandidateSummary, EvalSummary } from "../suite/summarize.js";
import { advise } from "./advise.js";

function cand(name: string, prompt: string, acc: number, costPerRequest: number, promptTokens: number): CandidateSummary {
  return {
    name,
    backend: { type: "openai", model: name },
    prompt,
    examples: 100,
    failures: 0,
    cached: 0,
    metrics: { accuracy: { value: acc, low: acc - 0.05, high: acc + 0.05, n: 100, unit: "fraction" } },
    latency: null,
    cost: { requests: 100, meanPromptTokens: promptTokens, meanCompletionTokens: 5, costPerRequestUsd: costPerRequest, totalCostUsd: costPerRequest * 100, correct: acc * 100, costPerCorrectUsd: costPerRequest / acc, monthlyVolume: 1_000_000, monthlyCostUsd: costPerRequest * 1_000_000 },
  };
}
const summary = (cs: CandidateSummary[], comparisons: EvalSummary["comparisons"] = []): EvalSummary => ({ primaryMetric: "accuracy", examples: 100, candidates: cs, comparisons, verdicts: [] });

describe("advise", () => {
  const base = cand("zero", "zero-shot", 0.55, 0.0001, 40);
  const fewShot = cand("few", "system+few-shot(k=8,seed=1)", 0.7, 0.0004, 600);
  it("keeps prompting when the best prompt meets the target", () => {
    const a = advise({ summary: summary([base, fewShot]), trainExamples: 5000, target: 0.65 });
    expect(a.recommendation).toBe("keep-prompting");
    expect(a.reasons[0]).toBe("few already reaches 70.0% accuracy, at or above the target 65.0%: prompting is cheaper to change and needs no training.");
  });
  it("asks for data when there is too little", () => {
    expect(advise({ summary: summary([base, fewShot]), trainExamples: 30, target: 0.9 }).recommendation).toBe("collect-data");
  });
  it("prefers prompts when requirements change rapidly", () => {
    expect(advise({ summary: summary([base, fewShot]), trainExamples: 5000, target: 0.9, changingRequirements: true }).recommendation).toBe("keep-prompting");
  });
  it("recommends retrieval when a retrieval candidate significantly beats the prompt", () => {
    const rag = cand("rag", "system+bm25(k=3)", 0.82, 0.0006, 900);
    const cmp = { a: "rag", b: "few", metric: "accuracy", unit: "fraction" as const, difference: 0.12, low: 0.05, high: 0.19, pValue: 0.001, test: "mcnemar-chi-square" as const, n: 100, verdict: "rag beats few by 12.0 points accuracy" };
    const a = advise({ summary: summary([base, fewShot, rag], [cmp]), trainExamples: 5000, target: 0.9 });
    expect(a.recommendation).toBe("add-retrieval");
  });
  it("recommends fine-tuning with the numbers: gap, saving, break-even", () => {
    const a = advise({ summary: summary([base, fewShot]), trainExamples: 2000, target: 0.9, labelCounts: { a: 1000, b: 1000 } });
    expect(a.recommendation).toBe("fine-tune");
    expect(a.reasons[0]).toBe("the best prompt (few, 70.0%) is 20.0 points short of the target, and there are 2000 training examples to learn from.");
    // saving (0.0004 − 0.0001)·1e6 = $300/month; training 600 tok · 2000 · 3 epochs · $3/M = $10.80
    expect(a.numbers.monthlySavingFromShorterPrompts).toBeCloseTo(300, 9);
    expect(a.numbers.estimatedTrainingCost).toBeCloseTo(10.8, 9);
    expect(a.numbers.breakEvenMonths).toBeCloseTo(0.036, 9);
  });
  it("keeps prompting when a measured fine-tuned model does not beat the best prompt", () => {
    const tuned = { ...cand("ft", "template", 0.69, 0.0002, 40), fineTuned: true };
    const cmp = { a: "ft", b: "few", metric: "accuracy", unit: "fraction" as const, difference: -0.01, low: -0.05, high: 0.03, pValue: 0.6, test: "mcnemar-exact" as const, n: 100, verdict: "no significant difference between ft and few on accuracy: ft −1.0 points, 95% CI [-5.0, 3.0], p = 0.60" };
    const a = advise({ summary: summary([base, fewShot, tuned], [cmp]), trainExamples: 5000, target: 0.9 });
    expect(a.recommendation).toBe("keep-prompting");
    expect(a.reasons.slice(0, 2)).toEqual([`measured: ${cmp.verdict}`, "the fine-tuned candidate ft does not beat few; fine-tuning has not paid off on this data."]);
  });
});
