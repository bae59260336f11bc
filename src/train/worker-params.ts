import { z } from "zod";
import { LORA_TARGET_MODULES } from "./model-support.js";

/**
 * The TS↔Python contract: the params of every worker request (docs/worker-protocol.md) as zod schemas. This
 * is the one place their constraints and defaults live. scripts/generate-contract.ts writes them as JSON
 * Schema into the Python package (worker/tunekit_worker/contract/worker-params.schema.json); the worker
 * validates each request against that file and fills omitted params from its `default`s, so Python has no
 * defaults of its own. train.yaml (spec.ts) reuses the `trainFields` below under its camelCase keys.
 */

/** Keeps a field's default at the top level of its JSON Schema when it also accepts null (the worker's "off"). */
function orNull<T extends z.ZodType>(field: z.ZodDefault<T>) {
  return field.unwrap().nullable().default(field.def.defaultValue as z.util.NoUndefined<z.output<T>>);
}

const folder = (what: string) => z.string().min(1).describe(what);
const tokenIds = z.array(z.number().int());

/** Each training hyperparameter once: its constraint, default and description. */
export const trainFields = {
  method: z.enum(["lora", "full"]).default("lora"),
  loraR: z.number().int().min(1).default(8).describe("LoRA rank."),
  loraAlpha: z.number().positive().default(16).describe("LoRA scaling numerator (scale = alpha / r, or alpha / sqrt(r) with rsLoRA)."),
  loraDropout: z.number().min(0).lt(1).default(0),
  loraTargetModules: z.array(z.enum(LORA_TARGET_MODULES)).min(1).default(["q_proj", "v_proj"]),
  loraUseRslora: z.boolean().default(false),
  quantize: z
    .enum(["none", "nf4"])
    .default("none")
    .describe("nf4 (QLoRA, method lora only): the frozen base projections are stored as 4-bit NormalFloat (blocks of 64, absmax scales) and dequantized to bf16 on the fly; LoRA adapters stay 16/32-bit and are saved as usual."),
  doubleQuant: z.boolean().default(false).describe("With quantize nf4: the block scales are quantized to 8 bits too (about 0.37 bit less per weight)."),
  lr: z.number().positive().default(2e-4),
  weightDecay: z.number().min(0).default(0),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
  eps: z.number().positive().default(1e-8),
  scheduleType: z.enum(["cosine", "linear", "constant"]).default("cosine"),
  warmupSteps: z.number().int().min(0).default(0),
  minLrRatio: z.number().min(0).max(1).default(0),
  batchSize: z.number().int().min(1).default(8),
  gradAccum: z.number().int().min(1).default(1),
  epochs: z.number().positive().default(1),
  maxSteps: z.number().int().min(1).nullable().default(null).describe("Stop after this many optimizer steps (overrides epochs)."),
  maxGradNorm: z.number().positive().nullable().default(1),
  evalEverySteps: z.number().int().min(1).default(50),
  evalMaxBatches: z.number().int().min(1).nullable().default(null),
  patience: z.number().int().min(1).default(3).describe("Evaluations without improvement before stopping."),
  minDelta: z.number().min(0).default(0),
  checkpointEverySteps: z.number().int().min(1).default(50),
  keepLast: z.number().int().min(1).default(2),
  gradientCheckpointing: z
    .union([z.boolean(), z.number().int().min(0)])
    .default(false)
    .describe("true: every layer recomputes its forward in backward (least memory); k: only the first k layers (selective); false: none."),
  seed: z.number().int().default(42),
  device: z.string().regex(/^(auto|cpu|cuda|cuda:\d+)$/, "use auto, cpu, cuda or cuda:N").default("auto"),
  dtype: z.enum(["auto", "float32", "bfloat16"]).default("auto"),
  logEvery: z.number().int().min(1).default(1),
  objective: z
    .enum(["sft", "dpo", "orpo"])
    .default("sft")
    .describe("sft: next-token loss on chat/text records; dpo / orpo: preference training on the dataset's preference records (chosen vs rejected completions)."),
  dpoBeta: z.number().positive().default(0.1).describe("DPO's beta: how far the policy may move from the reference (higher = closer)."),
  dpoLoss: z.enum(["sigmoid"]).default("sigmoid").describe("DPO loss form: sigmoid (-log sigmoid(beta * margin), the paper's)."),
  dpoReferenceFree: z.boolean().default(false).describe("true: no reference model (reference log-probs taken as 0)."),
  orpoBeta: z.number().positive().default(0.1).describe("ORPO's lambda: the weight of the odds-ratio term beside the chosen completion's NLL."),
  distributed: z
    .enum(["ddp", "fsdp"])
    .default("ddp")
    .describe("With processes > 1: ddp keeps a full copy of the model per GPU; fsdp (full fine-tuning) shards weights, gradients and optimizer states across the GPUs, for models whose full fine-tuning does not fit one GPU."),
};

const f = trainFields;

export const WorkerEarlyStoppingSchema = z.strictObject({ patience: f.patience, min_delta: f.minDelta });

export const WorkerTrainParamsSchema = z.strictObject({
  model_dir: folder("Hugging Face model folder (config.json, *.safetensors)."),
  data_dir: folder("Compiled shards (docs/shard-format.md)."),
  output_dir: folder("Where checkpoints/, best/ and the exported adapter/ or model/ go."),
  resume_from: z.string().min(1).nullable().default(null).describe("A checkpoints/step-N folder or a run's output_dir."),
  init_adapter: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe("A PEFT LoRA adapter folder a LoRA run starts from (its r, alpha and targets must equal lora's)."),
  method: f.method,
  quantize: f.quantize,
  double_quant: f.doubleQuant,
  objective: f.objective,
  dpo: z.strictObject({ beta: f.dpoBeta, loss: f.dpoLoss, reference_free: f.dpoReferenceFree }).prefault({}),
  orpo: z.strictObject({ beta: f.orpoBeta }).prefault({}),
  lora: z
    .strictObject({
      r: f.loraR,
      alpha: f.loraAlpha,
      dropout: f.loraDropout,
      // The worker also takes PEFT's string forms: "all-linear" or a regex over module paths.
      target_modules: z.union([f.loraTargetModules.unwrap(), z.string().min(1)]).default(f.loraTargetModules.def.defaultValue),
      use_rslora: f.loraUseRslora,
    })
    .prefault({}),
  optimizer: z.strictObject({ lr: f.lr, weight_decay: f.weightDecay, betas: f.betas, eps: f.eps }).prefault({}),
  schedule: z.strictObject({ type: f.scheduleType, warmup_steps: f.warmupSteps, min_lr_ratio: f.minLrRatio }).prefault({}),
  batch_size: f.batchSize,
  grad_accum: f.gradAccum,
  epochs: f.epochs,
  max_steps: f.maxSteps,
  max_grad_norm: f.maxGradNorm.describe("null: no clipping (grad_norm is still reported)."),
  gradient_checkpointing: f.gradientCheckpointing,
  distributed: f.distributed,
  compile: z.boolean().nullable().default(null).describe("torch.compile each decoder layer; null: on for CUDA with torch >= 2.2."),
  seed: f.seed,
  // every_steps null: the worker still evaluates at the last step when a val shard exists.
  eval: z.strictObject({ every_steps: orNull(f.evalEverySteps), max_batches: f.evalMaxBatches }).prefault({}),
  early_stopping: WorkerEarlyStoppingSchema.nullable().default(null).describe("null: no early stopping."),
  checkpoint: z.strictObject({ every_steps: orNull(f.checkpointEverySteps), keep_last: f.keepLast }).prefault({}),
  device: f.device,
  dtype: f.dtype,
  log_every: f.logEvery,
});

const inferenceDevice = {
  device: f.device,
  // float16 is for inference on a GPU only (the worker refuses it on CPU).
  dtype: z.enum(["auto", "float32", "bfloat16", "float16"]).default("auto"),
};

export const WorkerGenerateParamsSchema = z.strictObject({
  model_dir: folder("Hugging Face model folder."),
  adapter_dir: z.string().min(1).nullable().default(null).describe("A PEFT LoRA adapter folder to apply."),
  prompts: z.array(tokenIds).min(1).describe("Token ids per prompt."),
  max_new_tokens: z.number().int().min(0).default(64),
  temperature: z.number().min(0).default(0).describe("0: greedy."),
  top_p: z.number().gt(0).max(1).default(1),
  seed: z.number().int().nullable().default(null),
  stop_token_ids: z.array(z.number().int()).default([]),
  stop_sequences: z.array(tokenIds).default([]),
  allowed_sequences: z
    .array(tokenIds)
    .nullable()
    .default(null)
    .describe("Every row may only produce one of these token sequences (e.g. class labels); null: unconstrained."),
  ...inferenceDevice,
});

export const WorkerScoreParamsSchema = z.strictObject({
  model_dir: folder("Hugging Face model folder."),
  adapter_dir: z.string().min(1).nullable().default(null),
  sequences: z.array(tokenIds).min(1).describe("Token ids per sequence."),
  ...inferenceDevice,
});

export const WorkerMergeParamsSchema = z.strictObject({
  model_dir: folder("The base model folder."),
  adapter_dir: folder("The PEFT LoRA adapter folder."),
  output_dir: folder("Where the merged Hugging Face folder is written."),
  dtype: z.enum(["float32", "bfloat16", "float16"]).nullable().default(null).describe("null: the base model's own dtype."),
});

// Serving mode (docs/worker-protocol.md "Serving"): one loaded base model with named LoRA adapters, then requests
// that join and leave the running decode batch at every step.
export const WorkerServeStartParamsSchema = z.strictObject({
  model_dir: folder("Hugging Face model folder (the base every adapter was trained on)."),
  adapters: z
    .object({})
    .catchall(z.string().min(1))
    .default({})
    .describe("Adapter name -> PEFT LoRA adapter folder; a submit picks one by name (none: the base model)."),
  max_batch: z.number().int().min(1).default(16).describe("KV-cache slots: requests decoded at once; more wait."),
  max_len: z.number().int().min(2).default(2048).describe("Tokens per slot (prompt + new tokens)."),
  ...inferenceDevice,
});

export const WorkerSubmitParamsSchema = z.strictObject({
  prompt: tokenIds.describe("Token ids of the prompt."),
  adapter: z.string().min(1).nullable().default(null).describe("A name from serve_start's adapters; null: the base."),
  max_new_tokens: z.number().int().min(0).default(64),
  temperature: z.number().min(0).default(0).describe("0: greedy."),
  top_p: z.number().gt(0).max(1).default(1),
  seed: z.number().int().nullable().default(null),
  stop_token_ids: z.array(z.number().int()).default([]),
  stop_sequences: z.array(tokenIds).default([]),
});

export const WorkerCancelParamsSchema = z.strictObject({
  request_id: z.union([z.string(), z.number().int()]).describe("The id of the submit to cancel."),
});

/** Methods whose params the contract carries (ping, shutdown and serve_stop take none). */
export const WORKER_PARAMS_SCHEMAS = {
  train: WorkerTrainParamsSchema,
  generate: WorkerGenerateParamsSchema,
  score: WorkerScoreParamsSchema,
  merge: WorkerMergeParamsSchema,
  serve_start: WorkerServeStartParamsSchema,
  submit: WorkerSubmitParamsSchema,
  cancel: WorkerCancelParamsSchema,
} as const;

export type WorkerTrainParams = z.output<typeof WorkerTrainParamsSchema>;
export type WorkerTrainParamsInput = z.input<typeof WorkerTrainParamsSchema>;
export type WorkerGenerateParams = z.output<typeof WorkerGenerateParamsSchema>;
export type WorkerScoreParams = z.output<typeof WorkerScoreParamsSchema>;
export type WorkerMergeParams = z.output<typeof WorkerMergeParamsSchema>;
export type WorkerServeStartParams = z.output<typeof WorkerServeStartParamsSchema>;
export type WorkerSubmitParams = z.output<typeof WorkerSubmitParamsSchema>;

export const CONTRACT_FILE = "worker/tunekit_worker/contract/worker-params.schema.json";
export const CONTRACT_COMMAND = "npx tsx scripts/generate-contract.ts";

/**
 * The contract file's content: one JSON Schema (draft 2020-12) per method under `methods`. Input-side
 * schemas: a param with a default is optional and carries that `default`, which the worker applies.
 */
export function workerParamsContract(): Record<string, unknown> {
  const methods = Object.fromEntries(
    Object.entries(WORKER_PARAMS_SCHEMAS).map(([method, schema]) => {
      const { $schema: _drop, ...body } = z.toJSONSchema(schema, { io: "input", unrepresentable: "throw" }) as Record<string, unknown>;
      return [method, body];
    }),
  );
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $comment: `Generated from src/train/worker-params.ts by \`${CONTRACT_COMMAND}\`. Do not edit.`,
    title: "tunekit worker request params",
    methods,
  };
}

/** The file as written: stable key order from the schemas, two-space indent, trailing newline. */
export function renderWorkerParamsContract(): string {
  return `${JSON.stringify(workerParamsContract(), null, 2)}\n`;
}
