/** The migrate stage's public surface: hosted OpenAI fine-tune → an open-weight model the user owns. */
export { compareOldNew } from "./compare.js";
export type { CompareInput, CompareOutcome } from "./compare.js";
export { distillFromLogs, logRecordToCandidate } from "./distill.js";
export type { DistillOptions, DistillReport, DistillResult } from "./distill.js";
export { experimentEntries, setupExperiment } from "./experiment.js";
export type { ExperimentSetup, WrittenExperiment } from "./experiment.js";
export { importJobFiles, readHostedJob } from "./hosted-job.js";
export type { HostedJob, ImportedJobFiles, OpenAiAccess } from "./hosted-job.js";
export { MIGRATION_STEPS, MigrateOptionsSchema, migrationName } from "./options.js";
export type { MigrateOptions, MigrateOptionsInput, MigrationStep } from "./options.js";
export { gateVerdict, promoteCandidate } from "./promote.js";
export type { PromoteInput, PromoteOutcome } from "./promote.js";
export { AUTO_BATCH_SIZE, AUTO_EPOCHS, LORA_BASE_LR, MAX_BATCH_SIZE, assertBaseModel, mapHyperparameters, replacementSpec, trainReplacement } from "./replacement.js";
export { parseMigrateOptions, runMigration } from "./run-migration.js";
export type { LineageLink, MigrateReporter, MigrationResult } from "./run-migration.js";
