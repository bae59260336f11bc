import { readFileSync } from "node:fs";
import { parseDocument, parse as parseYamlScalar } from "yaml";
import { z } from "zod";
import { configErrorFrom, deepMerge, describeIssues, knownKeysAt, type ConfigProblem } from "../config/index.js";
import { ConfigError, NotFoundError } from "../errors/index.js";
import { HostedOptionsSchema } from "../providers/index.js";
import { trainFields } from "./worker-params.js";

/**
 * The training job spec (train.yaml): one zod schema gives the types, the defaults and the JSON Schema.
 * `provider` selects the backend; only "local" (our PyTorch worker) exists now. Hosted providers (openai,
 * bedrock, together) join the enum with their own resource checks in PROVIDER_CHECKS (spec-check.ts); the
 * shared fields (model, dataset, epochs, lr…) keep their meaning across providers.
 */
export const TRAIN_PROVIDERS = ["local", "openai", "bedrock", "together"] as const;
export type TrainProvider = (typeof TRAIN_PROVIDERS)[number];

/** Projection names LoRA can wrap: the worker's own list (worker/tunekit_worker/contract/model-support.json). */
export { LORA_TARGET_MODULES } from "./model-support.js";

// Constraints and defaults come from the worker contract (worker-params.ts): written once, used here under
// train.yaml's camelCase keys and there under the worker's snake_case ones.
const f = trainFields;

const LoraSchema = z
  .strictObject({ r: f.loraR, alpha: f.loraAlpha, dropout: f.loraDropout, targetModules: f.loraTargetModules, useRslora: f.loraUseRslora })
  .prefault({});

const OptimizerSchema = z.strictObject({ lr: f.lr, weightDecay: f.weightDecay, betas: f.betas, eps: f.eps }).prefault({});

const ScheduleSchema = z.strictObject({ type: f.scheduleType, warmupSteps: f.warmupSteps, minLrRatio: f.minLrRatio }).prefault({});

const EvalSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Validation loss on the dataset's val split."),
    everySteps: f.evalEverySteps,
    maxBatches: f.evalMaxBatches,
  })
  .prefault({});

const EarlyStoppingSchema = z.strictObject({ patience: f.patience, minDelta: f.minDelta });

const CheckpointSchema = z.strictObject({ everySteps: f.checkpointEverySteps, keepLast: f.keepLast }).prefault({});

export const TrainSpecSchema = z.strictObject({
  $schema: z.string().optional(),
  provider: z
    .enum(TRAIN_PROVIDERS, { error: () => `unknown provider; available: ${TRAIN_PROVIDERS.join(", ")}` })
    .default("local")
    .describe("Where training runs: local (our PyTorch worker) or hosted (openai, bedrock, together; settings under hosted.<provider>)."),
  hosted: HostedOptionsSchema,
  name: z.string().min(1).optional().describe("Run name; also names the fine-tuned model."),
  model: z.string().min(1).describe("Base model: a Hugging Face folder (config.json, *.safetensors, tokenizer.json), or a Hub name org/name[@revision] downloaded into the HF cache (docs/hub.md)."),
  dataset: z.string().min(1).describe('Dataset version: "name" (latest), "name@N" or a version id.'),
  template: z.string().optional().describe("Chat template: the model's own when omitted (chatml when it has none), a named one, or a .jinja file."),
  trainOn: z.enum(["assistant", "all"]).default("assistant"),
  method: f.method,
  quantize: f.quantize,
  doubleQuant: f.doubleQuant,
  objective: f.objective,
  dpo: z.strictObject({ beta: f.dpoBeta, loss: f.dpoLoss, referenceFree: f.dpoReferenceFree }).prefault({}),
  orpo: z.strictObject({ beta: f.orpoBeta }).prefault({}),
  initAdapter: z
    .string()
    .min(1)
    .optional()
    .describe("A PEFT LoRA adapter folder (e.g. a previous run's output/adapter) this LoRA run starts from; its r, alpha and targetModules must equal lora's."),
  lora: LoraSchema,
  optimizer: OptimizerSchema,
  schedule: ScheduleSchema,
  batchSize: f.batchSize,
  gradAccum: f.gradAccum,
  epochs: f.epochs,
  maxSteps: f.maxSteps,
  maxGradNorm: f.maxGradNorm,
  seqLen: z.number().int().min(8).max(1 << 20).default(512),
  packing: z.boolean().default(true),
  truncation: z.enum(["truncate", "drop"]).default("truncate"),
  eval: EvalSchema,
  earlyStopping: EarlyStoppingSchema.nullable().default(null),
  checkpoint: CheckpointSchema,
  gradientCheckpointing: f.gradientCheckpointing,
  seed: f.seed,
  device: f.device,
  dtype: f.dtype,
  output: z.string().optional().describe("Output folder; default .tunekit/runs/<run>/output."),
  logEvery: f.logEvery,
  processes: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(1)
    .describe("Data-parallel training processes on this machine (torchrun; one per GPU). 1 = a single worker."),
  distributed: f.distributed,
});

export type TrainSpec = z.infer<typeof TrainSpecSchema>;
export type TrainSpecInput = z.input<typeof TrainSpecSchema>;

export function trainSpecJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(TrainSpecSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}

/** Every schema problem at once, as the one CONFIG_INVALID error tunekit.yaml uses too. */
export function parseTrainSpec(raw: unknown, source = "train spec"): TrainSpec {
  const result = safeParseTrainSpec(raw, source);
  if (result.spec) return result.spec;
  throw configErrorFrom(result.problems);
}

/** The spec, or its schema problems (so callers can add resource problems and report them together). */
export function safeParseTrainSpec(raw: unknown, source = "train spec"): { spec: TrainSpec; problems: [] } | { spec: null; problems: ConfigProblem[] } {
  const result = TrainSpecSchema.safeParse(raw);
  if (result.success) {
    const local = [...localOnlyProblems(result.data, source), ...quantizeProblems(result.data, source)];
    return local.length ? { spec: null, problems: local } : { spec: result.data, problems: [] };
  }
  const problems = describeIssues(result.error.issues, raw, (path) => knownKeysAt(TrainSpecSchema, path)).map((p) => ({
    ...p,
    fix: sectionHint(p) ?? p.fix,
    source,
  }));
  return { spec: null, problems };
}

/** objective and initAdapter drive our worker; a hosted provider has its own settings (hosted.<provider>.method). */
function localOnlyProblems(spec: TrainSpec, source: string): ConfigProblem[] {
  if (spec.provider === "local") return [];
  const problems: ConfigProblem[] = [];
  if (spec.objective !== "sft") {
    problems.push({ path: "objective", value: spec.objective, message: `objective ${spec.objective} is for local training; provider is ${spec.provider}`, fix: `use provider: local, or the provider's own setting (hosted.${spec.provider}.method where it offers dpo) and remove objective`, source });
  }
  if (spec.initAdapter !== undefined) {
    problems.push({ path: "initAdapter", value: spec.initAdapter, message: `initAdapter continues a local LoRA adapter; provider is ${spec.provider}`, fix: "use provider: local, or remove initAdapter", source });
  }
  return problems;
}

/** QLoRA quantizes the frozen base under LoRA adapters: a full fine-tune (every weight trained) cannot use it. */
function quantizeProblems(spec: TrainSpec, source: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (spec.quantize !== "none" && spec.method !== "lora") {
    problems.push({ path: "quantize", value: spec.quantize, message: `quantize ${spec.quantize} (QLoRA) trains LoRA adapters on a frozen 4-bit base, but method is ${spec.method}`, fix: "use method: lora with quantize: nf4, or remove quantize for full fine-tuning", source });
  }
  if (spec.quantize !== "none" && spec.provider !== "local") {
    problems.push({ path: "quantize", value: spec.quantize, message: `quantize ${spec.quantize} runs in tunekit's worker; provider is ${spec.provider}`, fix: "use provider: local, or remove quantize", source });
  }
  if (spec.doubleQuant && spec.quantize === "none") {
    problems.push({ path: "doubleQuant", value: true, message: "doubleQuant quantizes the NF4 block scales, but quantize is none", fix: "set quantize: nf4, or remove doubleQuant", source });
  }
  return problems;
}

const SECTIONS = ["lora", "optimizer", "schedule", "eval", "earlyStopping", "checkpoint", "dpo", "orpo"] as const;

/** A top-level key that lives in a section (`lr` → optimizer.lr) gets "move it" rather than a spelling guess. */
function sectionHint(p: ConfigProblem): string | undefined {
  const m = /^unknown key "(.+)"$/.exec(p.message);
  if (!m || p.path !== m[1]) return undefined;
  const section = SECTIONS.find((s) => knownKeysAt(TrainSpecSchema, [s]).includes(m[1]));
  return section ? `it belongs in the ${section} section: write it as ${section}.${m[1]}` : undefined;
}

/** `--set a.b=value` pairs (value parsed as YAML: numbers, booleans, null, lists) as a nested override. */
export function parseSetFlags(pairs: readonly string[]): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      problems.push({ path: pair, value: pair, message: "--set needs key=value", fix: "write it as --set batchSize=4 or --set lora.r=16", source: "--set" });
      continue;
    }
    const keys = pair.slice(0, eq).split(".");
    let value: unknown = pair.slice(eq + 1);
    try {
      value = parseYamlScalar(value as string);
    } catch {
      // keep the raw string
    }
    const nested = keys.reduceRight<unknown>((acc, key) => ({ [key]: acc }), value) as Record<string, unknown>;
    out = deepMerge(out, nested);
  }
  if (problems.length) throw configErrorFrom(problems);
  return out;
}

/** Reads train.yaml, applies --set overrides and validates; every problem reported at once. */
export function loadTrainSpec(path: string, sets: readonly string[] = []): TrainSpec {
  return parseTrainSpec(readTrainSpecInput(path, sets), path);
}

/** train.yaml with --set overrides applied, not yet validated (resolveTrainSpecInput validates it all at once). */
export function readTrainSpecInput(path: string, sets: readonly string[] = []): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new NotFoundError("TRAIN_SPEC_NOT_FOUND", `cannot read the job spec ${path}`, { fix: "pass --config with the path of your train.yaml" });
  }
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new ConfigError("CONFIG_INVALID", `${path}:${e.linePos?.[0]?.line ?? "?"}: YAML syntax error: ${e.message.split("\n")[0]}`, {
      fix: "fix the YAML syntax at that line (indentation with spaces, a space after each colon)",
    });
  }
  const value = (doc.toJS() ?? {}) as unknown;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError("CONFIG_INVALID", `${path} must be a mapping of keys to values`, { fix: "start with `model:` and `dataset:` keys" });
  }
  return deepMerge(value as Record<string, unknown>, parseSetFlags(sets));
}
