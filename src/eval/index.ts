/** The eval stage's public surface: other stages and the shells import from here, never from its files. */
export { advise, catalogTrainingPrice } from "./advice/advise.js";
export type { Advice } from "./advice/advise.js";
export { profileTrainSplit } from "./advice/dataset-profile.js";
export { LocalCandidate } from "./candidates/local-candidate.js";
export { LlamaCppCandidate, type LlamaCppCandidateOptions } from "./candidates/llama-cpp-candidate.js";
export { LlamaCppModel, LLAMA_CPP_FIX, type LlamaCppModelOptions, type LlamaCppGeneration } from "./candidates/llama-cpp-model.js";
export type { LearningCurve } from "./curve/learning-curve.js";
export { runLearningCurve } from "./curve/run-curve.js";
export { formatMetric, formatMs, formatUsd } from "./report/format-values.js";
export { writeEvalReport } from "./report/write-report.js";
export { bootstrapMean } from "./stats/bootstrap.js";
export { percentile } from "./stats/percentiles.js";
export { loadExamples } from "./suite/load-examples.js";
export { runEvalSuite } from "./suite/run-suite.js";
export type { RunSuiteOptions, SuiteOutcome } from "./suite/run-suite.js";
export { BUILTIN_METRICS, CandidateSpecSchema, EvalSuiteSchema, MetricSpecSchema, evalSuiteJsonSchema, loadEvalSuite, metricName, parseEvalSuite } from "./suite/suite-config.js";
export type { CandidateSpec, EvalSuite, LoadedSuite, MetricSpec } from "./suite/suite-config.js";
export type { CandidateSummary, ComparisonResult, EvalSummary, MetricValue } from "./suite/summarize.js";
