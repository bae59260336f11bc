import { createReadStream } from "node:fs";
import OpenAI from "openai";
import type { FineTuningJob, JobCreateParams } from "openai/resources/fine-tuning/jobs/jobs";
import { callProvider } from "../errors.js";
import { decodeMaybeBase64, parseMetricsCsv } from "../metrics-csv.js";
import { readApiKey, type OpenAiOptions } from "../spec.js";
import type { FineTuneBackend, JobCheckpoint, JobEvent, JobMetric, JobState, JobStatus, SubmitInput, SubmitResult } from "../types.js";

/**
 * OpenAI fine-tuning through the official SDK: Files API upload (purpose fine-tune), fine_tuning.jobs create /
 * retrieve / listEvents / checkpoints.list / cancel, and the result-metrics CSV (result_files → files.content).
 */
const STATUS: Record<string, JobStatus> = {
  validating_files: "validating",
  queued: "queued",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  cancelled: "cancelled",
};

export interface OpenAiBackendOptions {
  options: OpenAiOptions;
  /** train.yaml epochs / seed, used when hosted.openai does not set its own. */
  epochs?: number;
  seed?: number;
  env?: NodeJS.ProcessEnv;
  /** Test hook: SDK retries off for deterministic error tests. */
  maxRetries?: number;
}

export class OpenAiBackend implements FineTuneBackend {
  readonly provider = "openai" as const;
  private readonly client: OpenAI;

  constructor(private readonly config: OpenAiBackendOptions) {
    const o = config.options;
    this.client = new OpenAI({
      apiKey: readApiKey("openai", o.apiKeyEnv, config.env),
      baseURL: o.baseURL,
      organization: o.organization,
      maxRetries: config.maxRetries ?? 2,
    });
  }

  /** The create request (also shown in the plan before anything is uploaded). */
  buildCreateParams(model: string, trainingFileId: string, validationFileId: string | undefined, runId: string): JobCreateParams {
    const o = this.config.options;
    const nEpochs = o.nEpochs ?? (this.config.epochs !== undefined ? Math.max(1, Math.round(this.config.epochs)) : "auto");
    const method: JobCreateParams.Method =
      o.method === "dpo"
        ? { type: "dpo", dpo: { hyperparameters: { n_epochs: nEpochs, batch_size: o.batchSize, learning_rate_multiplier: o.learningRateMultiplier, beta: o.beta } } }
        : { type: "supervised", supervised: { hyperparameters: { n_epochs: nEpochs, batch_size: o.batchSize, learning_rate_multiplier: o.learningRateMultiplier } } };
    const seed = o.seed ?? this.config.seed;
    return {
      model,
      training_file: trainingFileId,
      ...(validationFileId ? { validation_file: validationFileId } : {}),
      ...(o.suffix ? { suffix: o.suffix } : {}),
      ...(seed !== undefined ? { seed } : {}),
      method,
      metadata: { tunekit_run: runId },
    };
  }

  async submit(input: SubmitInput): Promise<SubmitResult> {
    const training = await callProvider("openai", "uploading the training file", () =>
      this.client.files.create({ file: createReadStream(input.trainingFile), purpose: "fine-tune" }),
    );
    const validation = input.validationFile
      ? await callProvider("openai", "uploading the validation file", () =>
          this.client.files.create({ file: createReadStream(input.validationFile as string), purpose: "fine-tune" }),
        )
      : undefined;
    const job = await callProvider("openai", "creating the fine-tuning job", () =>
      this.client.fineTuning.jobs.create(this.buildCreateParams(input.model, training.id, validation?.id, input.runId)),
    );
    return { jobId: job.id, state: this.toState(job), files: { training: training.id, ...(validation ? { validation: validation.id } : {}) } };
  }

  async status(jobId: string): Promise<JobState> {
    return this.toState(await callProvider("openai", `retrieving job ${jobId}`, () => this.client.fineTuning.jobs.retrieve(jobId)));
  }

  async events(jobId: string, options: { afterId?: string } = {}): Promise<JobEvent[]> {
    // The API lists newest first; walk pages (has_more / after) until the last event we already have.
    const newestFirst: JobEvent[] = [];
    await callProvider("openai", `listing events of job ${jobId}`, async () => {
      for await (const e of this.client.fineTuning.jobs.listEvents(jobId, { limit: 100 })) {
        if (e.id === options.afterId) break;
        const data = (e.data ?? {}) as Record<string, unknown>;
        const metrics = e.type === "metrics" ? numericFields(data) : undefined;
        newestFirst.push({
          id: e.id,
          createdAt: new Date(e.created_at * 1000).toISOString(),
          level: e.level === "warn" ? "warn" : e.level === "error" ? "error" : "info",
          message: e.message,
          type: e.type ?? "message",
          ...(typeof data.step === "number" ? { step: data.step } : {}),
          ...(metrics ? { metrics } : {}),
        });
      }
    });
    return newestFirst.reverse();
  }

  async metrics(jobId: string): Promise<JobMetric[]> {
    const job = await callProvider("openai", `retrieving job ${jobId}`, () => this.client.fineTuning.jobs.retrieve(jobId));
    const out: JobMetric[] = [];
    for (const fileId of job.result_files ?? []) {
      const text = await callProvider("openai", `downloading result file ${fileId}`, async () => (await this.client.files.content(fileId)).text());
      out.push(...parseMetricsCsv(decodeMaybeBase64(text)));
    }
    return out;
  }

  async checkpoints(jobId: string): Promise<JobCheckpoint[]> {
    const out: JobCheckpoint[] = [];
    await callProvider("openai", `listing checkpoints of job ${jobId}`, async () => {
      for await (const c of this.client.fineTuning.jobs.checkpoints.list(jobId, { limit: 100 })) {
        out.push({
          id: c.id,
          step: c.step_number,
          modelId: c.fine_tuned_model_checkpoint,
          metrics: numericFields(c.metrics as Record<string, unknown>),
          createdAt: new Date(c.created_at * 1000).toISOString(),
        });
      }
    });
    return out.sort((a, b) => a.step - b.step);
  }

  async cancel(jobId: string): Promise<JobState> {
    return this.toState(await callProvider("openai", `cancelling job ${jobId}`, () => this.client.fineTuning.jobs.cancel(jobId)));
  }

  async resultModelId(jobId: string): Promise<string | null> {
    return (await this.status(jobId)).resultModelId;
  }

  private toState(job: FineTuningJob): JobState {
    const methodHp = job.method?.type === "dpo" ? job.method.dpo?.hyperparameters : job.method?.supervised?.hyperparameters;
    return {
      provider: "openai",
      jobId: job.id,
      status: STATUS[job.status] ?? "running",
      providerStatus: job.status,
      baseModel: job.model,
      resultModelId: job.fine_tuned_model ?? null,
      hyperparameters: { method: job.method?.type ?? "supervised", ...(job.hyperparameters ?? {}), ...(methodHp ?? {}), seed: job.seed },
      trainedTokens: job.trained_tokens ?? null,
      billedCostUsd: null,
      error: job.error && job.error.message ? { code: job.error.code ?? "unknown", message: job.error.message } : null,
      createdAt: new Date(job.created_at * 1000).toISOString(),
      finishedAt: job.finished_at ? new Date(job.finished_at * 1000).toISOString() : null,
    };
  }
}

function numericFields(data: Record<string, unknown> | null | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(data ?? {})) if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
  return out;
}
