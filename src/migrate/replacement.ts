import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConflictError, NotFoundError } from "../errors/index.js";
import { resolveHubModel } from "../hub/index.js";
import type { Model, Run, Workspace } from "../registry/index.js";
import { countSplits, parseTrainSpec, resolveTrainSpec, resumeRun, startTrainRun, type TrainRunHooks, type TrainSpec } from "../train/index.js";
import type { HostedJob } from "./hosted-job.js";

/**
 * The job's hyperparameters → a local LoRA spec, by one documented rule (docs/leaving-openai.md):
 *   epochs    = n_epochs                           ("auto": 3, what OpenAI resolves for most small datasets)
 *   batchSize = batch_size, at most 32             ("auto": 8; above 32 a local GPU rarely has the memory)
 *   lr        = 2e-4 × learning_rate_multiplier    ("auto": × 1)
 * OpenAI does not publish the base rate its multiplier scales, so the multiplier is carried relative to the
 * usual LoRA rate (2e-4, PEFT's and QLoRA's default range), keeping "the user asked for a hotter / cooler run".
 * LoRA r 16, alpha 32 on every projection; validation loss only where the dataset has a val split.
 */
export const LORA_BASE_LR = 2e-4;
export const AUTO_EPOCHS = 3;
export const AUTO_BATCH_SIZE = 8;
export const MAX_BATCH_SIZE = 32;

export interface ReplacementOptions {
  name: string;
  modelDir: string;
  dataset: string;
  device: string;
  seqLen: number;
  maxSteps?: number;
  hasVal: boolean;
}

export function mapHyperparameters(hp: HostedJob["hyperparameters"]): { epochs: number; batchSize: number; lr: number } {
  const epochs = hp.nEpochs === "auto" ? AUTO_EPOCHS : Math.max(1, Math.round(hp.nEpochs));
  const batchSize = hp.batchSize === "auto" ? AUTO_BATCH_SIZE : Math.min(MAX_BATCH_SIZE, Math.max(1, Math.round(hp.batchSize)));
  const lr = LORA_BASE_LR * (hp.learningRateMultiplier === "auto" ? 1 : hp.learningRateMultiplier);
  return { epochs, batchSize, lr };
}

export function replacementSpec(job: HostedJob, options: ReplacementOptions): TrainSpec {
  const { epochs, batchSize, lr } = mapHyperparameters(job.hyperparameters);
  return parseTrainSpec(
    {
      name: options.name,
      model: options.modelDir,
      dataset: options.dataset,
      method: "lora",
      lora: { r: 16, alpha: 32, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] },
      optimizer: { lr },
      schedule: { type: "cosine", warmupSteps: 0, minLrRatio: 0.1 },
      batchSize,
      epochs,
      maxSteps: options.maxSteps,
      seqLen: options.seqLen,
      eval: { enabled: options.hasVal },
      ...(job.seed === null ? {} : { seed: job.seed }),
      device: options.device,
      dtype: options.device === "cpu" ? "float32" : "auto",
    },
    `replacement train spec for ${job.id}`,
  );
}

/**
 * The base model given with --to, before anything is spent: a Hub name (org/name[@rev]) is resolved into the
 * Hugging Face cache (downloaded if needed); a folder must be a Hugging Face folder.
 */
export async function assertBaseModel(dir: string): Promise<string> {
  const hub = await resolveHubModel(dir);
  if (hub) return hub.dir;
  const abs = resolve(dir);
  if (!existsSync(join(abs, "config.json"))) {
    throw new NotFoundError("MIGRATE_BASE_MODEL_MISSING", `the base model folder ${abs} ${existsSync(abs) ? "has no config.json" : "does not exist"}`, {
      fix: "pass --to with a Hugging Face model folder you own (config.json, *.safetensors, tokenizer.json) or a Hub name (org/name[@revision])",
    });
  }
  return abs;
}

export async function hasValSplit(ws: Workspace, dataset: string): Promise<boolean> {
  return (await countSplits(ws, await ws.registry.resolveDatasetVersion(dataset))).val > 0;
}

/**
 * Trains the spec, or resumes `previousRunId` from its newest checkpoint when a killed migration left it
 * interrupted or paused. A run that failed (crashed) is not resumed: its recorded spec may be what failed
 * (a device, a sequence length), so a new run starts with the spec of this invocation. The adapter is
 * registered as a model with lineage to run and dataset version.
 */
export async function trainReplacement(ws: Workspace, spec: TrainSpec, hooks: TrainRunHooks & { previousRunId?: string } = {}): Promise<{ run: Run; model: Model }> {
  const previous = hooks.previousRunId ? await ws.registry.getRun(hooks.previousRunId) : null;
  const outcome =
    previous && (previous.status === "interrupted" || previous.status === "paused")
      ? await resumeRun(ws, previous.id, hooks)
      : await startTrainRun(ws, await resolveTrainSpec(ws, spec, `replacement train spec`), hooks);
  if (outcome.run.status !== "succeeded" || !outcome.model) {
    throw new ConflictError("MIGRATE_TRAIN_INCOMPLETE", `training run ${outcome.run.id} of the replacement ended ${outcome.run.status}`, {
      fix: "run the same `tunekit migrate` command again: it resumes the run from its newest checkpoint",
      details: { runId: outcome.run.id },
    });
  }
  return { run: outcome.run, model: outcome.model };
}
