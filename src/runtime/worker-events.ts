/** The worker's events and the shapes of its results (docs/worker-protocol.md). */
export interface ReadyEvent {
  event: "ready";
  protocol: number;
  worker_version: string;
  torch: string;
  python: string;
  cuda: boolean;
  devices: string[];
  pid: number;
}

export interface ProgressEvent {
  event: "progress";
  id?: string;
  step: number;
  total_steps: number;
  epoch: number;
  loss: number | null;
  lr: number;
  tokens_per_s: number;
  eta_s: number;
}

export interface MetricEvent {
  event: "metric";
  id?: string;
  step: number;
  name: string;
  value: number | null;
}

export interface CheckpointEvent {
  event: "checkpoint";
  id?: string;
  step: number;
  path: string;
  best: boolean;
}

export interface LogEvent {
  event: "log";
  id?: string;
  /** "stderr" marks free text the worker wrote to stderr. */
  level: string;
  message: string;
}

export interface ErrorEvent {
  event: "error";
  id?: string | null;
  code: string;
  message: string;
  fix?: string;
}

export interface DoneEvent {
  event: "done";
  id?: string;
  result: Record<string, unknown>;
}

/** Serving mode: tokens of one submit, sent as soon as they are final (docs/worker-protocol.md "Serving"). */
export interface TokenEvent {
  event: "token";
  id?: string;
  ids: number[];
}

export type WorkerEvent = ReadyEvent | ProgressEvent | MetricEvent | CheckpointEvent | LogEvent | ErrorEvent | DoneEvent | TokenEvent;

/** The params of a serving-mode `submit` (src/train/worker-params.ts WorkerSubmitParamsSchema). */
export interface SubmitParams {
  prompt: number[];
  adapter?: string | null;
  max_new_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number | null;
  stop_token_ids?: number[];
  stop_sequences?: number[][];
}

/** A submit's `done.result`; finish_reason "cancelled" after a `cancel`. */
export interface SubmitResult {
  ids: number[];
  finish_reason: "stop" | "length" | "cancelled";
  stop_ids: number[];
  prompt_tokens: number;
  completion_tokens: number;
}

export interface GenerateParams {
  model_dir: string;
  adapter_dir?: string | null;
  prompts: number[][];
  max_new_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number | null;
  stop_token_ids?: number[];
  stop_sequences?: number[][];
  /** Constrained decoding: each output is one of these token sequences (worker/tunekit_worker/constrain.py). */
  allowed_sequences?: number[][];
  device?: string;
  dtype?: string;
}

export interface GenerateResult {
  outputs: { ids: number[]; finish_reason: "stop" | "length"; stop_ids?: number[] | null }[];
  prompt_tokens: number;
  completion_tokens: number;
}

export interface TrainResult {
  steps: number;
  total_steps: number;
  best_step: number | null;
  best_val_loss: number | null;
  final_train_loss: number | null;
  output_dir: string;
  adapter_dir: string | null;
  model_dir: string | null;
  exported_step: number;
  tokens_trained: number;
  trainable_parameters: number;
  stopped: "completed" | "early_stopping" | "interrupted";
}
