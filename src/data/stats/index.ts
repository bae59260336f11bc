export { StatsCollector, collectStats, type DatasetStats } from "./collector.js";
export { StatsOptionsSchema, estimateTokens, type BatchCountTokens, type CountTokens, type StatsOptions, type StatsOptionsInput } from "./options.js";
export { detectLanguage } from "./language.js";
export { NgramStats } from "./ngrams.js";
export { summarize, type Distribution } from "./summary.js";
export { statsWarnings, type StatsWarning } from "./warnings.js";
export { renderStatsHtml, renderStatsText } from "./render.js";
