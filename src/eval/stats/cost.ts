import { requestCostUsd, type TokenPrice } from "../../cost/index.js";

/**
 * Tokens and money. A candidate's price is the one TokenPrice (per 1M input and output tokens, plus an
 * optional fixed price per request) and its cost the one formula, both from src/cost.
 */
export type Pricing = TokenPrice;

export interface UsageRow {
  promptTokens: number | null;
  completionTokens: number | null;
  /** True when the example's primary outcome was correct; null when not judged. */
  correct: boolean | null;
}

export interface CostSummary {
  requests: number;
  meanPromptTokens: number | null;
  meanCompletionTokens: number | null;
  costPerRequestUsd: number | null;
  totalCostUsd: number | null;
  correct: number | null;
  costPerCorrectUsd: number | null;
  monthlyVolume: number | null;
  monthlyCostUsd: number | null;
}

function mean(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

export function summarizeCost(rows: readonly UsageRow[], pricing: Pricing | null, monthlyVolume: number | null): CostSummary {
  const prompt = rows.filter((r) => r.promptTokens !== null).map((r) => r.promptTokens as number);
  const completion = rows.filter((r) => r.completionTokens !== null).map((r) => r.completionTokens as number);
  const judged = rows.filter((r) => r.correct !== null);
  const correct = judged.length ? judged.filter((r) => r.correct).length : null;
  const priced = pricing ? rows.filter((r) => r.promptTokens !== null && r.completionTokens !== null) : [];
  const costs = priced.map((r) => requestCostUsd(pricing as Pricing, r.promptTokens as number, r.completionTokens as number));
  const costPerRequestUsd = mean(costs);
  // Scale the measured cost to every request made (failed requests still cost their tokens if any were used).
  const totalCostUsd = costPerRequestUsd === null ? null : costPerRequestUsd * rows.length;
  return {
    requests: rows.length,
    meanPromptTokens: mean(prompt),
    meanCompletionTokens: mean(completion),
    costPerRequestUsd,
    totalCostUsd,
    correct,
    costPerCorrectUsd: totalCostUsd === null || !correct ? null : totalCostUsd / correct,
    monthlyVolume,
    monthlyCostUsd: costPerRequestUsd === null || monthlyVolume === null ? null : costPerRequestUsd * monthlyVolume,
  };
}
