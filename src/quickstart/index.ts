export { runQuickstart, DEMO_MODEL_DIR, SAMPLE_CSV, type QuickstartResult } from "./run-quickstart.js";
export { QuickstartOptionsSchema, quickstartSizes, type QuickstartOptions, type QuickstartOptionsInput } from "./options.js";
export { renderComparison, comparisonRows, type ComparisonRow } from "./comparison.js";
export { RecordingReporter, type QuickstartReporter, type QuickstartProgress } from "./reporter.js";
export { CPU_HOURLY_USD } from "./options.js";
