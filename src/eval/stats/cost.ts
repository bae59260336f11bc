/**
 * Tokens and money. Prices are per million tokens (input and output separately) plus an optional fixed
 * price per request (self-hosted: GPU-hour cost divided by throughput, given by the user).
 */
export interface Pricing {
  inputPerMTok: number;
  outputPerMTok: number;
  perRequest: number;
}

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

export function requestCost(pricing: Pricing, promptTokens: number, completionTokens: number): number {
  return (promptTokens * pricing.inputPerMTok + completionTokens * pricing.outputPerMTok) / 1e6 + pricing.perRequest;
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
  const costs = priced.map((r) => requestCost(pricing as Pricing, r.promptTokens as number, r.completionTokens as number));
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
