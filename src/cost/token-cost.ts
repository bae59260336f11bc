import type { TokenPrice } from "./catalog/types.js";

/**
 * The one token-price formula. Prices are USD per 1M tokens (TokenPriceSchema, src/cost/catalog/types.ts);
 * every caller (cost estimates, hosted-run costs, eval cost summaries, the gateway's per-request cost) computes
 * through these, so a rounding or unit change happens once.
 */
export const TOKENS_PER_PRICE_UNIT = 1_000_000;

/** USD for one request: prompt and completion tokens at their prices, plus the fixed per-request price. */
export function requestCostUsd(price: TokenPrice, promptTokens: number, completionTokens: number): number {
  return (promptTokens * price.inputPerMTok + completionTokens * price.outputPerMTok) / TOKENS_PER_PRICE_UNIT + (price.perRequest ?? 0);
}

/** USD for `tokens` at a per-1M price (training: trained tokens × the training price). */
export function tokensCostUsd(tokens: number, perMTok: number): number {
  return (tokens * perMTok) / TOKENS_PER_PRICE_UNIT;
}

/** Money as estimates and run records show it: rounded to 1/100 of a cent. */
export function roundUsd(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
