/**
 * One job interface for hosted fine-tuning. Each provider's own statuses, events and metrics are normalised
 * here so the registry, `tunekit runs watch` and the dashboard see one vocabulary.
 */
export const HOSTED_PROVIDERS = ["openai", "bedrock", "together"] as const;
export type HostedProvider = (typeof HOSTED_PROVIDERS)[number];

/** Normalised job status. `validating` covers file checks/tokenisation before training starts. */
export type JobStatus = "queued" | "validating" | "running" | "succeeded" | "failed" | "cancelled";

export function isFinalJobStatus(status: JobStatus): boolean {
  return status === "succeeded" || status === "failed" || status === "cancelled";
}

export interface JobState {
  provider: HostedProvider;
  jobId: string;
  status: JobStatus;
  /** The provider's own status word, kept for debugging. */
  providerStatus: string;
  baseModel: string;
  resultModelId: string | null;
  /** Hyperparameters as the provider resolved them ("auto" replaced by the chosen values where reported). */
  hyperparameters: Record<string, unknown>;
  trainedTokens: number | null;
  /** Cost the provider itself reports (Together); null when the API does not say. */
  billedCostUsd: number | null;
  error: { code: string; message: string } | null;
  createdAt: string | null;
  finishedAt: string | null;
}

export interface JobEvent {
  /** Provider event id, or a stable synthetic id (provider has none) for de-duplication. */
  id: string;
  createdAt: string;
  level: "info" | "warn" | "error";
  message: string;
  type: string;
  step?: number;
  /** Metrics carried by the event (OpenAI "metrics" events). */
  metrics?: Record<string, number>;
}

export interface JobMetric {
  step: number;
  name: string;
  value: number;
  epoch?: number;
}

export interface JobCheckpoint {
  id: string;
  step: number;
  modelId: string | null;
  metrics: Record<string, number>;
  createdAt: string | null;
}

export interface SubmitInput {
  /** Exported JSONL for this provider. */
  trainingFile: string;
  validationFile?: string;
  model: string;
  /** Run id (names files and jobs so a job can be traced back). */
  runId: string;
}

export interface SubmitResult {
  jobId: string;
  state: JobState;
  files: { training: string; validation?: string };
}

export interface FineTuneBackend {
  readonly provider: HostedProvider;
  submit(input: SubmitInput): Promise<SubmitResult>;
  status(jobId: string): Promise<JobState>;
  /** Events in chronological order; with `afterId`, only those newer than that event. */
  events(jobId: string, options?: { afterId?: string }): Promise<JobEvent[]>;
  metrics(jobId: string): Promise<JobMetric[]>;
  checkpoints(jobId: string): Promise<JobCheckpoint[]>;
  cancel(jobId: string): Promise<JobState>;
  resultModelId(jobId: string): Promise<string | null>;
}
