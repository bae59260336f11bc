import { existsSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import type { GatewayFineTuning } from "../../config/index.js";
import { deepMerge } from "../../config/index.js";
import { commitVersion, readVersion, type DatasetRecord } from "../../data/index.js";
import { NotFoundError, UsageError } from "../../errors/index.js";
import type { Run, Workspace } from "../../registry/index.js";
import { CANCEL_REQUESTED, resolveTrainSpecInput } from "../../train/index.js";
import { assertFileFitsMethod, type FineTuningFiles } from "./files.js";
import { page, toUnixSeconds, type ListEnvelope } from "./pagination.js";

/** Name of the log event that marks a run as an API job and holds what the request asked for. */
export const JOB_EVENT = "openai-job";
/**
 * Log event recorded before a job is stopped for good (so a crash mid-cancel still ends cancelled); the job
 * runner also acts on one written by another process (`tunekit runs cancel`): the train module's cancel request.
 */
export const CANCEL_EVENT = CANCEL_REQUESTED;

const Hyper = z
  .object({
    n_epochs: z.union([z.literal("auto"), z.number().int().min(1).max(50)]).optional(),
    batch_size: z.union([z.literal("auto"), z.number().int().min(1).max(256)]).optional(),
    learning_rate_multiplier: z.union([z.literal("auto"), z.number().positive()]).optional(),
  })
  .optional();

/** OpenAI's DpoHyperparameters: the supervised ones plus beta. */
const DpoHyper = z
  .object({
    n_epochs: z.union([z.literal("auto"), z.number().int().min(1).max(50)]).optional(),
    batch_size: z.union([z.literal("auto"), z.number().int().min(1).max(256)]).optional(),
    learning_rate_multiplier: z.union([z.literal("auto"), z.number().positive()]).optional(),
    beta: z.union([z.literal("auto"), z.number().positive().max(100)]).optional(),
  })
  .optional();

/** POST /v1/fine_tuning/jobs, as the openai SDK's JobCreateParams (unknown fields are ignored, as OpenAI does). */
export const JobCreateSchema = z.object({
  model: z.string().min(1),
  training_file: z.string().min(1),
  validation_file: z.string().min(1).nullish(),
  suffix: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1–64 letters, digits, . _ -").nullish(),
  seed: z.number().int().min(0).max(2147483647).nullish(),
  hyperparameters: Hyper,
  metadata: z.record(z.string(), z.string()).nullish(),
  method: z
    .object({
      type: z.enum(["supervised", "dpo", "reinforcement"]),
      supervised: z.object({ hyperparameters: Hyper }).optional(),
      dpo: z.object({ hyperparameters: DpoHyper }).optional(),
    })
    .optional(),
});

export interface Hyperparameters {
  n_epochs: number;
  batch_size: number;
  learning_rate_multiplier: number;
}

/** What a job's request asked for and what it resolved to; stored once, with the run (event JOB_EVENT). */
export interface JobMeta {
  model: string;
  base: string;
  training_file: string;
  validation_file: string | null;
  suffix: string | null;
  seed: number;
  hyperparameters: Hyperparameters;
  metadata: Record<string, string> | null;
  /** Absent on jobs created before dpo jobs existed: those are supervised. */
  method?: "supervised" | "dpo";
  /** The DPO beta the run trains with (dpo jobs). */
  beta?: number;
}

/** The job object's `method`, as OpenAI reports it. */
export type JobMethod =
  | { type: "supervised"; supervised: { hyperparameters: Hyperparameters } }
  | { type: "dpo"; dpo: { hyperparameters: Hyperparameters & { beta: number } } };

/** OpenAI's `fine_tuning.job` object. */
export interface JobObject {
  id: string;
  object: "fine_tuning.job";
  created_at: number;
  error: { code: string; message: string; param: string | null } | null;
  fine_tuned_model: string | null;
  finished_at: number | null;
  hyperparameters: Hyperparameters;
  model: string;
  organization_id: string;
  result_files: string[];
  seed: number;
  status: "validating_files" | "queued" | "running" | "succeeded" | "failed" | "cancelled";
  trained_tokens: number | null;
  training_file: string;
  validation_file: string | null;
  estimated_finish: null;
  integrations: null;
  metadata: Record<string, string> | null;
  method: JobMethod;
  user_provided_suffix: string | null;
}

export const jobIdOf = (runId: string): string => `ftjob-${runId.replace(/^run_/, "")}`;
export const runIdOf = (jobId: string): string => `run_${jobId.replace(/^ftjob-/, "")}`;
const DEFAULT_LR = 2e-4;

/** Jobs are local training runs (kind train, backend local) named `ft:<base>:<suffix>:<job id>`. */
export class FineTuningJobs {
  private readonly metas = new Map<string, JobMeta>();
  /**
   * True while the runner still works on a run (after training it writes the result file and serves the model):
   * until then a succeeded run is reported running, so `succeeded` always means the model answers.
   */
  isBusy: (runId: string) => boolean = () => false;

  constructor(private readonly ws: Workspace, private readonly config: GatewayFineTuning, private readonly files: FineTuningFiles) {}

  async create(body: Record<string, unknown>): Promise<JobObject> {
    const parsed = JobCreateSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = issue.path.join(".");
      throw new UsageError("FT_BAD_REQUEST", `invalid ${param || "body"}: ${issue.message}`, { fix: "see the fine-tuning job fields in OpenAI's API reference (model, training_file, hyperparameters…)", details: { param } });
    }
    const req = parsed.data;
    const method = req.method?.type ?? "supervised";
    if (method === "reinforcement") {
      throw new UsageError("FT_METHOD_UNAVAILABLE", `method "reinforcement" is not available in this version of tunekit; "supervised" and "dpo" fine-tuning run locally`, {
        fix: "send method: {type: 'supervised'} (chat files) or {type: 'dpo'} (preference files)",
        details: { param: "method.type" },
      });
    }
    const { modelDir, base } = this.resolveModel(req.model);
    const train = await this.files.versionOf(req.training_file, "training_file");
    assertFileFitsMethod(method, train.format, req.training_file, train.filename, "training_file");
    const val = req.validation_file ? await this.files.versionOf(req.validation_file, "validation_file") : null;
    if (val) assertFileFitsMethod(method, val.format, req.validation_file!, val.filename, "validation_file");
    const trainVersion = await this.ws.registry.getDatasetVersion(train.versionId);
    const version = val
      ? await commitVersion(this.ws, {
          dataset: trainVersion.datasetName,
          parent: trainVersion,
          transform: "openai-job-split",
          params: { training_file: req.training_file, validation_file: req.validation_file },
          records: withSplits(this.ws, train.versionId, val.versionId),
        })
      : trainVersion;
    const requested = { ...req.hyperparameters, ...(method === "dpo" ? req.method?.dpo?.hyperparameters : req.method?.supervised?.hyperparameters) };
    const hyperparameters = this.resolveHyperparameters(requested, trainVersion.recordCount);
    const beta = (requested as { beta?: number | "auto" }).beta;
    const seed = req.seed ?? Math.floor(Math.random() * 2 ** 31);
    const defaults = this.config.train as { optimizer?: { lr?: number } };
    const raw = deepMerge(this.config.train, {
      model: modelDir,
      dataset: version.id,
      epochs: hyperparameters.n_epochs,
      batchSize: hyperparameters.batch_size,
      optimizer: { lr: (defaults.optimizer?.lr ?? DEFAULT_LR) * hyperparameters.learning_rate_multiplier },
      seed,
      // The method decides the objective, whatever gateway.fineTuning.train says; beta "auto" keeps its dpo.beta
      // (or tunekit's default).
      objective: method === "dpo" ? "dpo" : "sft",
      ...(method === "dpo" && typeof beta === "number" ? { dpo: { beta } } : {}),
      ...(val ? {} : { eval: { enabled: false } }),
    });
    const resolved = await resolveTrainSpecInput(this.ws, raw, "gateway.fineTuning.train + the job's hyperparameters");
    const config = { ...resolved.spec, model: resolved.modelDir };
    const run = await this.ws.registry.createRun({ kind: "train", config, backend: "local", datasetVersionId: version.id });
    const name = `ft:${base}:${req.suffix ?? ""}:${jobIdOf(run.id)}`;
    await this.ws.registry.updateRun(run.id, { name, config: { ...config, name } });
    const meta: JobMeta = { model: req.model, base, training_file: req.training_file, validation_file: req.validation_file ?? null, suffix: req.suffix ?? null, seed, hyperparameters, metadata: req.metadata ?? null, method, ...(method === "dpo" ? { beta: resolved.spec.dpo.beta } : {}) };
    await this.ws.registry.appendRunEvents(run.id, [{ type: "log", name: JOB_EVENT, data: { message: `Created fine-tuning job: ${jobIdOf(run.id)}`, ...meta } }]);
    return this.get(jobIdOf(run.id));
  }

  /**
   * `model` is a name under gateway.fineTuning.baseModels, or (only with allowPaths) a model folder relative to
   * the workspace root: a client must not pick any folder the server can read unless the operator said so.
   */
  resolveModel(model: string): { modelDir: string; base: string } {
    const names = Object.keys(this.config.baseModels);
    const named = Object.hasOwn(this.config.baseModels, model) ? this.config.baseModels[model] : undefined;
    const listed = names.length ? `use one of ${names.join(", ")}` : "name one under gateway.fineTuning.baseModels in tunekit.yaml";
    if (named === undefined && !this.config.allowPaths) {
      throw new UsageError("FT_MODEL_NOT_AVAILABLE", `Model ${model} is not available for fine-tuning: it is not a name in gateway.fineTuning.baseModels`, {
        fix: `${listed} (a model folder path is accepted only with gateway.fineTuning.allowPaths: true)`,
        details: { param: "model" },
      });
    }
    const dir = named ?? model;
    const modelDir = isAbsolute(dir) ? dir : resolve(this.ws.root, dir);
    if (!existsSync(join(modelDir, "config.json"))) {
      throw new UsageError("FT_MODEL_NOT_AVAILABLE", `Model ${model} is not available for fine-tuning or does not exist: ${named ? `its folder ${modelDir} has no config.json` : `it is neither a name in gateway.fineTuning.baseModels nor a model folder (${modelDir})`}`, {
        fix: named !== undefined ? `point gateway.fineTuning.baseModels.${model} at a model folder (one with config.json)` : `${listed}, or pass a model folder path`,
        details: { param: "model" },
      });
    }
    return { modelDir, base: named !== undefined ? model : basename(modelDir) };
  }

  /** "auto" (or absent) → gateway.fineTuning.train's value, else OpenAI-like defaults for the dataset size. */
  private resolveHyperparameters(h: Partial<Record<keyof Hyperparameters, number | "auto">>, records: number): Hyperparameters {
    const train = this.config.train as { epochs?: number; batchSize?: number };
    const pick = (v: number | "auto" | undefined, auto: number) => (typeof v === "number" ? v : auto);
    return {
      n_epochs: pick(h.n_epochs, train.epochs ?? 3),
      batch_size: pick(h.batch_size, train.batchSize ?? Math.max(1, Math.min(8, Math.ceil(records * 0.002)))),
      learning_rate_multiplier: pick(h.learning_rate_multiplier, 1),
    };
  }

  async meta(run: Run): Promise<JobMeta | null> {
    const cached = this.metas.get(run.id);
    if (cached) return cached;
    if (run.kind !== "train" || !run.name?.startsWith("ft:")) return null;
    const event = (await this.ws.registry.listRunEvents(run.id, { type: "log", name: JOB_EVENT, limit: 1 }))[0];
    if (!event) return null;
    const meta = event.data as unknown as JobMeta;
    this.metas.set(run.id, meta);
    return meta;
  }

  /** The run behind a job id, or OpenAI's 404. */
  async runOf(jobId: string): Promise<{ run: Run; meta: JobMeta }> {
    const run = /^ftjob-[0-9a-z]+$/.test(jobId) ? await this.ws.registry.getRun(runIdOf(jobId)).catch(() => null) : null;
    const meta = run ? await this.meta(run) : null;
    if (!run || !meta) throw new NotFoundError("FT_JOB_NOT_FOUND", `Could not find fine-tune: ${jobId}`, { fix: "use an id returned by POST /v1/fine_tuning/jobs (GET /v1/fine_tuning/jobs lists them)", details: { param: "fine_tuning_job_id" } });
    return { run, meta };
  }

  /** Every job's run, newest first. */
  async runs(): Promise<{ run: Run; meta: JobMeta }[]> {
    const out: { run: Run; meta: JobMeta }[] = [];
    for (const run of await this.ws.registry.listRuns({ kind: "train" })) {
      const meta = await this.meta(run);
      if (meta) out.push({ run, meta });
    }
    return out;
  }

  async cancelRequested(runId: string): Promise<boolean> {
    return (await this.ws.registry.listRunEvents(runId, { type: "log", name: CANCEL_EVENT, limit: 1 })).length > 0;
  }

  async get(jobId: string): Promise<JobObject> {
    const { run, meta } = await this.runOf(jobId);
    return this.toJob(run, meta);
  }

  async list(query: URLSearchParams): Promise<ListEnvelope<JobObject>> {
    const jobs = await Promise.all((await this.runs()).map(({ run, meta }) => this.toJob(run, meta)));
    return page(jobs, query);
  }

  async toJob(run: Run, meta: JobMeta): Promise<JobObject> {
    const result = run.result as { tokens_trained?: number } | null;
    const succeeded = run.status === "succeeded" && !this.isBusy(run.id);
    const final = succeeded || run.status === "failed" || run.status === "cancelled";
    return {
      id: jobIdOf(run.id),
      object: "fine_tuning.job",
      created_at: toUnixSeconds(run.createdAt),
      error: run.status === "failed" && run.error ? { code: run.error.code, message: run.error.message, param: null } : null,
      fine_tuned_model: succeeded ? run.name : null,
      finished_at: final && run.endedAt ? toUnixSeconds(run.endedAt) : null,
      hyperparameters: meta.hyperparameters,
      model: meta.model,
      organization_id: "tunekit",
      result_files: succeeded ? await this.files.resultFilesOf(run.id) : [],
      seed: meta.seed,
      status: run.status === "succeeded" && !succeeded ? "running" : statusOf(run),
      trained_tokens: succeeded ? (result?.tokens_trained ?? null) : null,
      training_file: meta.training_file,
      validation_file: meta.validation_file,
      estimated_finish: null,
      integrations: null,
      metadata: meta.metadata,
      method: meta.method === "dpo" ? { type: "dpo", dpo: { hyperparameters: { ...meta.hyperparameters, beta: meta.beta ?? 0 } } } : { type: "supervised", supervised: { hyperparameters: meta.hyperparameters } },
      user_provided_suffix: meta.suffix,
    };
  }
}

/** An interrupted or paused run waits to be resumed by the serve process: to the client it is queued again. */
function statusOf(run: Run): JobObject["status"] {
  switch (run.status) {
    case "pending": case "interrupted": case "paused": return "queued";
    case "running": return "running";
    default: return run.status;
  }
}

/** The job's data: training records split train, validation records split val (the train spec's splits). */
async function* withSplits(ws: Workspace, trainId: string, valId: string): AsyncGenerator<DatasetRecord> {
  for (const [id, split] of [[trainId, "train"], [valId, "val"]] as const) {
    for await (const record of readVersion(ws, id)) {
      const r = record as DatasetRecord & { metadata?: Record<string, unknown> };
      yield { ...r, metadata: { ...r.metadata, split } } as DatasetRecord;
    }
  }
}
