/** The train stage's public surface: other stages and the shells import from here, never from its files. */
export { CANCEL_REQUESTED, SERVER_SUPERVISED, cancelRun, markServerSupervised } from "./cancel-run.js";
export type { CancelOptions, CancelOutcome } from "./cancel-run.js";
export { ASSUMED_CPU, probeHardware } from "./hardware.js";
export { PAUSE_REQUESTED, isSupervisorAlive, newestCheckpoint, resumeRun, runPaths, startQueuedRun, startTrainRun, supervisorOf } from "./local-run.js";
export type { RunPaths, TrainRunHooks, TrainRunOutcome } from "./local-run.js";
export { buildPlan } from "./plan.js";
export type { TrainPlan } from "./plan.js";
export { compileRunData } from "./run-data.js";
export { countSplits, resolveTrainSpec, resolveTrainSpecInput } from "./spec-check.js";
export type { ResolvedTrainSpec } from "./spec-check.js";
export { LORA_TARGET_MODULES, TRAIN_PROVIDERS, TrainSpecSchema, loadTrainSpec, parseSetFlags, parseTrainSpec, readTrainSpecInput, safeParseTrainSpec, trainSpecJsonSchema } from "./spec.js";
export type { TrainProvider, TrainSpec, TrainSpecInput } from "./spec.js";
