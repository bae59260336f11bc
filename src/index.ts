/**
 * The tunekit library: `import { … } from "tunekit"`. Shells (the CLI, the gateway server, the dashboard)
 * import from here or from the stage modules; nothing here imports a shell. One block per lifecycle stage.
 */
// Foundation
export * from "./errors/index.js";
export * from "./log/index.js";
export * from "./config/index.js";
export * from "./registry/index.js";

// Data
export * from "./data/record.js";
export * from "./data/jsonl.js";
export * from "./data/versions.js";
export * from "./data/version-diff.js";
export * from "./data/import/importer.js";
export * from "./data/validate/validator.js";
export * from "./data/clean.js";
export * from "./data/dedupe/index.js";
export * from "./data/pii/index.js";
export * from "./data/split.js";
export * from "./data/stats/index.js";
export * from "./data/export/exporter.js";

// Models by name from the Hugging Face Hub (into the standard HF cache)
export * from "./hub/index.js";

// Tokenize
export * from "./tokenize/index.js";

// Train (local worker) and hosted providers
export * from "./train/spec.js";
export * from "./train/local-run.js";
export * from "./train/worker-client.js";
export { createBackend, type BackendContext } from "./providers/create-backend.js";
export type * from "./providers/types.js";

// Evaluate
export * from "./eval/suite/run-suite.js";
export * from "./eval/suite/suite-config.js";

// Cost
export * from "./cost/estimate.js";

// Serve & monitor
export * from "./gateway/server.js";

// Report, dashboard, quickstart
export * from "./report/model-card.js";
export * from "./ui/server.js";
export * from "./quickstart/index.js";
