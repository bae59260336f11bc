/** The providers stage's public surface: other stages and the shells import from here, never from its files. */
export { createBackend } from "./create-backend.js";
export { toProviderError } from "./errors.js";
export type { BackendContext } from "./create-backend.js";
export { planHostedRun, planWorkDir } from "./hosted-plan.js";
export type { HostedJobSpec, HostedPlan } from "./hosted-plan.js";
export { assertProviderOpen, cancelHostedRun, hostedRunInfo, submitHostedRun, watchHostedRun } from "./hosted-run.js";
export type { SubmitOptions } from "./hosted-run.js";
export { HostedOptionsSchema, readApiKey } from "./spec.js";
export { HOSTED_PROVIDERS, isFinalJobStatus } from "./types.js";
export type { FineTuneBackend, HostedProvider, JobCheckpoint, JobEvent, JobMetric, JobState, JobStatus, SubmitInput, SubmitResult } from "./types.js";
