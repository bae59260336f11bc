import { describe, expect, it } from "vitest";
import type { CandidateSummary, EvalSummary } from "../suite/summarize.js";
import { PriceCatalog } from "../../cost/index.js";
import { TunekitError } from "../../errors/index.js";
import { advise, bestBaseline, catalogTrainingPrice, trainingPriceFor } from "./advise.js";

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
    const a = advise({ summary: summary([base, fewShot]), trainExamples: 2000, target: 0.9, labelCounts: { a: 1000, b: 1000 }, trainPricePerMTok: 3 });
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

  it("refuses without a baseline candidate instead of comparing a fine-tune with itself", () => {
    const ft1 = { ...cand("ft1", "template", 0.8, 0.0002, 40), fineTuned: true };
    const ft2 = { ...cand("ft2", "template", 0.7, 0.0002, 40), backend: { type: "openai", model: "ft:gpt-4o-mini:acme::x" } };
    let caught: unknown;
    try {
      advise({ summary: summary([ft1, ft2]), trainExamples: 5000, target: 0.9 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TunekitError);
    const e = caught as TunekitError;
    expect({ code: e.code, message: e.message, details: e.details }).toEqual({
      code: "EVAL_NO_BASELINE",
      message: "the eval has no baseline candidate: every candidate (ft1, ft2) is fine-tuned, so there is no prompted base model to compare against",
      details: { candidates: ["ft1", "ft2"] },
    });
    expect(e.fix).toContain("add the base model as a candidate (zero-shot and with your best prompt) to eval.yaml");
    expect(e.fix).toContain("fewShot: { k: 8 }");
  });
  it("says when every candidate misses the target, with each score and interval", () => {
    const tuned = { ...cand("ft", "template", 0.8, 0.0002, 40), fineTuned: true };
    const a = advise({ summary: summary([base, fewShot, tuned]), trainExamples: 5000, target: 0.9, trainPricePerMTok: 3 });
    expect(a.numbers.candidatesMeetingTarget).toBe(0);
    expect(a.reasons).toContain("no candidate reaches the target 90.0% accuracy: zero 55.0% [50.0%, 60.0%]; few 70.0% [65.0%, 75.0%]; ft 80.0% [75.0%, 85.0%] (accuracy with its confidence interval).");
    const met = advise({ summary: summary([base, fewShot, tuned]), trainExamples: 5000, target: 0.75, trainPricePerMTok: 3 });
    expect(met.numbers.candidatesMeetingTarget).toBe(1);
    expect(met.reasons.some((r) => r.startsWith("no candidate reaches"))).toBe(false);
  });
  it("invents no training price: without one the training cost and break-even are unavailable", () => {
    const a = advise({ summary: summary([base, fewShot]), trainExamples: 2000, target: 0.9 });
    expect(a.numbers.monthlySavingFromShorterPrompts).toBeCloseTo(300, 9);
    expect(a.numbers.estimatedTrainingCost).toBeNull();
    expect(a.numbers.breakEvenMonths).toBeNull();
    expect(a.reasons).toContain(
      "a fine-tuned model without the long prompt would save about $300.00/month; the training cost and break-even are unavailable: no training price is known for few — pass --train-price USD_PER_MTOK, or add its training price under cost.prices in tunekit.yaml.",
    );
  });
  it("names the candidates whose cost is unknown instead of pricing them", () => {
    const unpriced = { ...cand("local-base", "zero-shot", 0.5, 0, 40), cost: { ...base.cost, costPerRequestUsd: null, totalCostUsd: null, costPerCorrectUsd: null, monthlyCostUsd: null } };
    const a = advise({ summary: summary([unpriced, fewShot]), trainExamples: 5000, target: 0.9 });
    expect(a.reasons).toContain(
      "cost comparison unavailable for local-base: no price known; give each candidate pricing: {inputPerMTok, outputPerMTok} in eval.yaml (its provider's figures; the built-in catalog is listed in docs/cost.md) and run the eval again.",
    );
  });
  it("takes the training price of the best baseline's model from the catalog, or none", () => {
    const catalog = PriceCatalog.withOverrides([]);
    const mini = { ...fewShot, backend: { type: "openai", model: "gpt-4o-mini" } };
    expect(bestBaseline(summary([base, mini]))?.name).toBe("few");
    expect(trainingPriceFor(catalog, mini)).toEqual({ perMTok: 3, source: "catalog openai/gpt-4o-mini-2024-07-18" });
    expect(trainingPriceFor(catalog, { backend: { type: "openai", model: "my-vllm-model" } })).toBeUndefined();
    expect(trainingPriceFor(catalog, { backend: { type: "local", modelDir: "/m" } })).toBeUndefined();
    expect(catalogTrainingPrice(summary([base, mini]), catalog)).toEqual({ perMTok: 3, source: "catalog openai/gpt-4o-mini-2024-07-18" });
    expect(catalogTrainingPrice(summary([base, fewShot]), catalog)).toBeUndefined();
  });

  describe("closing hosted paths", () => {
    const mini = { ...fewShot, backend: { type: "openai", model: "gpt-4o-mini", baseURL: "https://api.openai.com/v1" } };
    it("says a recommended OpenAI fine-tune is on a closing path, with the date and source, and points to open weights", () => {
      const a = advise({ summary: summary([base, mini]), trainExamples: 2000, target: 0.9, today: new Date("2026-12-03") });
      expect(a.recommendation).toBe("fine-tune");
      expect(a.headline).toBe("Fine-tune an open-weight model (OpenAI's hosted fine-tuning is closing)");
      expect(a.reasons).toContain(
        "a fine-tune of gpt-4o-mini would run on OpenAI's hosted fine-tuning, which closes to every customer on 2027-01-06 (in 34 days) (source: https://platform.openai.com/docs/deprecations): " +
          "fine-tune an open-weight model instead (`provider: local` in train.yaml, e.g. a Llama 3 or Qwen3 base) and compare it with `tunekit eval run`; from an existing OpenAI fine-tune, `tunekit migrate` does this in one step (docs/leaving-openai.md).",
      );
      expect([a.numbers.hostedPathClosesOn, a.numbers.hostedPathDaysLeft]).toEqual(["2027-01-06", 34]);
    });
    it("says when the path has closed, and names hosted fine-tuned candidates whose base retires", () => {
      const ft = { ...cand("ft", "template", 0.75, 0.0002, 40), backend: { type: "openai", model: "ft:gpt-4o-mini-2024-07-18:acme::x", baseURL: "https://api.openai.com/v1" } };
      const cmp = { a: "ft", b: "few", metric: "accuracy", unit: "fraction" as const, difference: 0.05, low: 0.01, high: 0.09, pValue: 0.01, test: "mcnemar-exact" as const, n: 100, verdict: "ft beats few by 5.0 points accuracy" };
      const a = advise({ summary: summary([base, mini, ft], [cmp]), trainExamples: 2000, target: 0.9, today: new Date("2027-01-10") });
      expect(a.recommendation).toBe("fine-tune");
      expect(a.reasons.some((r) => r.includes("which closed to new jobs on 2027-01-06 (source: https://platform.openai.com/docs/deprecations)"))).toBe(true);
      expect(a.reasons.find((r) => r.startsWith("candidate ft"))).toMatch(
        /^candidate ft runs ft:gpt-4o-mini-2024-07-18:acme::x: its base model retires on 2027-01-14 \(in 4 days\); it can no longer be retrained on OpenAI \(job creation closed 2027-01-06\) \(source: https:\/\/platform\.openai\.com\/docs\/deprecations, date unconfirmed: .+\); move it to an open-weight model with `tunekit migrate`\.$/,
      );
    });
    it("stays quiet for OpenAI-compatible endpoints that are not OpenAI, and before the wind-down", () => {
      const vllm = { ...mini, backend: { type: "openai", model: "gpt-4o-mini", baseURL: "http://localhost:8000/v1" } };
      const a = advise({ summary: summary([base, vllm]), trainExamples: 2000, target: 0.9, today: new Date("2026-12-03") });
      expect([a.headline, a.numbers.hostedPathClosesOn]).toEqual(["Fine-tune", undefined]);
      expect(advise({ summary: summary([base, mini]), trainExamples: 2000, target: 0.9, today: new Date("2026-01-01") }).headline).toBe("Fine-tune");
    });
  });
});
