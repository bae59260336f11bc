/** The cost stage's public surface: other stages and the shells import from here, never from its files. */
export { PriceCatalog } from "./catalog/index.js";
export type { PriceProvider } from "./catalog/index.js";
export { TokenPriceSchema } from "./catalog/types.js";
export type { TokenPrice } from "./catalog/types.js";
export { HOURS_PER_MONTH, estimateCandidate, validateEstimateInput } from "./estimate.js";
export type { Candidate, CandidateEstimate, EstimateInput, LocalSettings, Workload } from "./estimate.js";
export { renderCostSection } from "./html-section.js";
export { retirementFor } from "./retirement.js";
export type { RetirementStatus } from "./retirement.js";
export { TOKENS_PER_PRICE_UNIT, requestCostUsd, roundUsd, tokensCostUsd } from "./token-cost.js";
