/** The cost stage's public surface: other stages and the shells import from here, never from its files. */
export { PriceCatalog } from "./catalog/index.js";
export type { PriceProvider } from "./catalog/index.js";
export { TokenPriceSchema } from "./catalog/types.js";
export type { TokenPrice } from "./catalog/types.js";
export { HOURS_PER_MONTH, estimateCandidate, validateEstimateInput } from "./estimate.js";
export type { Candidate, CandidateEstimate, EstimateInput, EstimateOptions, LocalSettings, Workload } from "./estimate.js";
export { renderCostSection } from "./html-section.js";
export { OPEN_WEIGHT_FIX, RETIREMENTS, baseModelOf, formatDays, retirementFor } from "./retirement.js";
export type { RetirementEntry, RetirementStatus } from "./retirement.js";
export { SERVICE_CLOSURES, closureFor, hostedPathStatus } from "./service-closure.js";
export type { ClosureStage, ClosureStatus, HostedPathStatus, ServiceClosure } from "./service-closure.js";
export { TOKENS_PER_PRICE_UNIT, requestCostUsd, roundUsd, tokensCostUsd } from "./token-cost.js";
