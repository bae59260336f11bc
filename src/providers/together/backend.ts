import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import Together from "together-ai";
import type { FineTuningCreateParams, FinetuneResponse } from "together-ai/resources/fine-tuning";
import { callProvider } from "../errors.js";
import { readApiKey, type TogetherOptions } from "../spec.js";
import type { FineTuneBackend, JobCheckpoint, JobEvent, JobMetric, JobState, JobStatus, SubmitInput, SubmitResult } from "../types.js";

/**
 * Together AI fine-tuning through the together-ai SDK: POST /files/upload (multipart), /fine-tunes create,
 * retrieve, events, checkpoints, metrics, cancel; LoRA or full, SFT or DPO.
 * The SDK's own `files.upload` helper reads its base URL from an env var at import time and ignores the
 * client's baseURL, so the documented multipart endpoint is called through the client instead.
 */
const STATUS: Record<string, JobStatus> = {
  pending: "queued", queued: "queued", running: "running", compressing: "running", uploading: "running",
  cancel_requested: "running", cancelled: "cancelled", error: "failed", completed: "succeeded",
};

/**
 * `total_price` as the Together CLI converts it: nanodollars (price / 1e9). UNSURE: the API reference does not
 * state the unit; the figure is recorded as `billedCostUsd` only under this assumption.
 */
export const TOGETHER_PRICE_UNIT = 1e9;

export interface TogetherBackendOptions {
  options: TogetherOptions;
  epochs?: number;
  seed?: number;
  env?: NodeJS.ProcessEnv;
  maxRetries?: number;
}

export class TogetherBackend implements FineTuneBackend {
  readonly provider = "together" as const;
  private readonly client: Together;

  constructor(private readonly config: TogetherBackendOptions) {
    const o = config.options;
    this.client = new Together({ apiKey: readApiKey("together", o.apiKeyEnv, config.env), baseURL: o.baseURL, maxRetries: config.maxRetries ?? 2 });
  }

  buildCreateParams(model: string, trainingFileId: string, validationFileId: string | undefined): FineTuningCreateParams {
    const o = this.config.options;
    const seed = o.seed ?? this.config.seed;
    return {
      model,
      training_file: trainingFileId,
      ...(validationFileId ? { validation_file: validationFileId, n_evals: Math.max(1, o.nEvals) } : { n_evals: 0 }),
      n_epochs: o.nEpochs ?? Math.max(1, Math.round(this.config.epochs ?? 1)),
      n_checkpoints: o.nCheckpoints,
      batch_size: o.batchSize,
      learning_rate: o.learningRate,
      training_type: o.trainingType === "full" ? { type: "Full" } : { type: "Lora", lora_r: o.loraR, lora_alpha: o.loraAlpha },
      training_method: o.method === "dpo" ? { method: "dpo" } : { method: "sft", train_on_inputs: o.trainOnInputs },
      ...(o.suffix ? { suffix: o.suffix } : {}),
      ...(seed !== undefined ? { random_seed: seed } : {}),
    };
  }

  private async upload(path: string): Promise<string> {
    const form = new FormData();
    form.append("file", new Blob([await readFile(path)], { type: "application/jsonl" }), basename(path));
    form.append("file_name", basename(path));
    form.append("purpose", "fine-tune");
    form.append("file_type", "jsonl");
    const res = await callProvider("together", `uploading ${basename(path)}`, () => this.client.post<{ id: string }>("/files/upload", { body: form }));
    return res.id;
  }

  async submit(input: SubmitInput): Promise<SubmitResult> {
    const training = await this.upload(input.trainingFile);
    const validation = input.validationFile ? await this.upload(input.validationFile) : undefined;
    const job = await callProvider("together", "creating the fine-tuning job", () => this.client.fineTuning.create(this.buildCreateParams(input.model, training, validation)));
    return { jobId: job.id, state: this.toState(job as FinetuneResponse), files: { training, ...(validation ? { validation } : {}) } };
  }

  async status(jobId: string): Promise<JobState> {
    return this.toState(await callProvider("together", `retrieving job ${jobId}`, () => this.client.fineTuning.retrieve(jobId)));
  }

  async events(jobId: string, options: { afterId?: string } = {}): Promise<JobEvent[]> {
    const res = await callProvider("together", `listing events of job ${jobId}`, () => this.client.fineTuning.listEvents(jobId));
    // Together events carry no id: a stable one from time, type and step de-duplicates across polls.
    const all: JobEvent[] = res.data.map((e) => ({
      id: `${e.created_at}|${e.type}|${e.step ?? ""}`,
      createdAt: new Date(e.created_at).toISOString(),
      level: e.level === "error" || e.level === "legacy_ierror" ? "error" : e.level === "warning" || e.level === "legacy_iwarning" ? "warn" : "info",
      message: e.message,
      type: e.type,
      ...(typeof e.step === "number" ? { step: e.step } : {}),
    }));
    all.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const at = options.afterId ? all.findIndex((e) => e.id === options.afterId) : -1;
    return at >= 0 ? all.slice(at + 1) : all;
  }

  async metrics(jobId: string): Promise<JobMetric[]> {
    const res = await callProvider("together", `listing metrics of job ${jobId}`, () => this.client.fineTuning.listMetrics(jobId));
    const out: JobMetric[] = [];
    for (const row of res.metrics ?? []) {
      const step = row.step ?? row.global_step;
      if (typeof step !== "number") continue;
      for (const [k, v] of Object.entries(row)) {
        if (k === "step" || k === "global_step" || typeof v !== "number") continue;
        out.push({ step, name: k === "train_loss" || k === "loss" ? "train/loss" : k === "eval_loss" || k === "valid_loss" ? "val/loss" : k, value: v });
      }
    }
    return out;
  }

  async checkpoints(jobId: string): Promise<JobCheckpoint[]> {
    const res = await callProvider("together", `listing checkpoints of job ${jobId}`, () => this.client.fineTuning.listCheckpoints(jobId));
    return res.data
      .map((c) => ({ id: `${jobId}:${c.step}`, step: c.step, modelId: `${jobId}:${c.step}`, metrics: {}, createdAt: c.created_at }))
      .sort((a, b) => a.step - b.step);
  }

  async cancel(jobId: string): Promise<JobState> {
    await callProvider("together", `cancelling job ${jobId}`, () => this.client.fineTuning.cancel(jobId));
    return this.status(jobId);
  }

  async resultModelId(jobId: string): Promise<string | null> {
    return (await this.status(jobId)).resultModelId;
  }

  private toState(job: FinetuneResponse): JobState {
    const status = STATUS[job.status] ?? "running";
    const type = job.training_type as { type?: string; lora_r?: number; lora_alpha?: number } | undefined;
    const failure = status === "failed" ? [...(job.events ?? [])].reverse().find((e) => e.type === "job_error" || e.level === "error") : undefined;
    return {
      provider: "together",
      jobId: job.id,
      status,
      providerStatus: job.status,
      baseModel: job.model ?? "",
      resultModelId: status === "succeeded" ? (job.model_output_name ?? null) : null,
      hyperparameters: {
        n_epochs: job.n_epochs, batch_size: job.batch_size, learning_rate: job.learning_rate, n_checkpoints: job.n_checkpoints, n_evals: job.n_evals,
        training_type: type?.type, ...(type?.lora_r !== undefined ? { lora_r: type.lora_r, lora_alpha: type.lora_alpha } : {}),
        training_method: (job.training_method as { method?: string } | undefined)?.method,
      },
      trainedTokens: job.token_count ?? null,
      billedCostUsd: typeof job.total_price === "number" ? job.total_price / TOGETHER_PRICE_UNIT : null,
      error: failure ? { code: "TOGETHER_JOB_ERROR", message: failure.message } : status === "failed" ? { code: "TOGETHER_JOB_ERROR", message: "the job ended with status error" } : null,
      createdAt: job.created_at ?? null,
      finishedAt: status === "succeeded" || status === "failed" || status === "cancelled" ? (job.updated_at ?? null) : null,
    };
  }
}
