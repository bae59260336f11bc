import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { configErrorFrom, type ConfigProblem } from "../config/index.js";
import { readVersion } from "../data/versions.js";
import type { DatasetVersion, Workspace } from "../registry/index.js";
import { isTunekitError } from "../errors/index.js";
import { resolveHubModel, type ModelPurpose } from "../hub/index.js";
import { SUPPORTED_ARCHITECTURES } from "./model-support.js";
import { safeParseTrainSpec, type TrainProvider, type TrainSpec } from "./spec.js";

/** The architectures the worker implements (its model-support.json). */
export { SUPPORTED_ARCHITECTURES };

/** The parts of a Hugging Face config.json the plan and the checks read. */
export interface ModelConfig {
  architectures?: string[];
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
  vocab_size: number;
  max_position_embeddings?: number;
  tie_word_embeddings?: boolean;
  attention_bias?: boolean;
  [key: string]: unknown;
}

export interface SplitCounts {
  train: number;
  val: number;
  test: number;
  /** Records with no metadata.split. */
  unassigned: number;
}

/** Where a Hub model came from: recorded with the run (as model: org/name@commit) for lineage. */
export interface ModelSource {
  repo: string;
  revision: string;
  commit: string;
}

/** A spec whose every referenced resource exists and fits: safe to spend compute on. */
export interface ResolvedTrainSpec {
  spec: TrainSpec;
  modelDir: string;
  /** Set when `model:` named a Hugging Face Hub repo; modelDir is then its snapshot in the HF cache. */
  modelSource?: ModelSource;
  modelConfig: ModelConfig;
  version: DatasetVersion;
  splits: SplitCounts;
}

/** planOnly: for a dry run, which reads config.json and the tokenizer only, so a Hub model's weights are not downloaded. */
export interface ResolveTrainSpecOptions {
  planOnly?: boolean;
}

type Check = (ws: Workspace, spec: TrainSpec, problems: ConfigProblem[], options: ResolveTrainSpecOptions) => Promise<Omit<ResolvedTrainSpec, "spec"> | null>;

/** Per provider: the checks that must pass before anything is spent. Hosted providers add theirs here. */
const PROVIDER_CHECKS: Record<TrainProvider, Check> = { local: checkLocal, openai: hostedElsewhere, bedrock: hostedElsewhere, together: hostedElsewhere };

/** Hosted specs are planned (export, validation, tokens, cost) by src/providers/hosted-plan.ts; `tunekit train` routes them there. */
async function hostedElsewhere(): Promise<null> {
  throw new Error("hosted providers are resolved by src/providers (planHostedRun), not resolveTrainSpec");
}

/** Checks the model folder and the dataset version; every problem reported at once (CONFIG_INVALID). */
export async function resolveTrainSpec(ws: Workspace, spec: TrainSpec, source = "train spec", options: ResolveTrainSpecOptions = {}): Promise<ResolvedTrainSpec> {
  const problems: ConfigProblem[] = [];
  const resolved = await PROVIDER_CHECKS[spec.provider](ws, spec, problems, options);
  if (problems.length || !resolved) throw configErrorFrom(problems.map((p) => ({ ...p, source: p.source ?? source })));
  return { spec, ...resolved };
}

/**
 * Validates raw spec input in one pass: schema problems *and* the resources that can be checked from the raw
 * values (model folder, dataset version) are reported together, so one run of the command shows every mistake.
 */
export async function resolveTrainSpecInput(ws: Workspace, raw: Record<string, unknown>, source = "train spec", options: ResolveTrainSpecOptions = {}): Promise<ResolvedTrainSpec> {
  const parsed = safeParseTrainSpec(raw, source);
  if (parsed.spec) return resolveTrainSpec(ws, parsed.spec, source, options);
  const problems: ConfigProblem[] = [];
  // Resource checks on raw values only make sense for the local backend (hosted `model` is a provider id).
  const local = (raw.provider ?? "local") === "local";
  if (local && typeof raw.model === "string" && raw.model !== "") {
    // Nothing trains from an invalid spec, so a Hub name is only checked (name, revision, access, config and
    // tokenizer present), not downloaded: a typo elsewhere in train.yaml never costs a download of the weights.
    const located = await locateModel(ws, raw.model, problems, "tokenizer");
    if (located && !located.modelSource) checkModelFolder(located.modelDir, { model: raw.model, seqLen: typeof raw.seqLen === "number" ? raw.seqLen : 0 }, problems);
  }
  if (local && typeof raw.dataset === "string" && raw.dataset !== "") {
    await ws.registry.resolveDatasetVersion(raw.dataset).catch((e: unknown) => {
      if (!isTunekitError(e)) throw e;
      problems.push({ path: "dataset", value: raw.dataset, message: e.message, fix: e.fix ?? "list versions with `tunekit data versions`" });
    });
  }
  throw configErrorFrom([...parsed.problems, ...problems.map((p) => ({ ...p, source }))]);
}

async function checkLocal(ws: Workspace, spec: TrainSpec, problems: ConfigProblem[], options: ResolveTrainSpecOptions) {
  checkDistributed(spec, problems);
  const located = await locateModel(ws, spec.model, problems, options.planOnly ? "plan" : "model");
  // A plan of a Hub model has no weights on disk (the Hub listing vouched for them); a folder must have them.
  const modelConfig = located && checkModelFolder(located.modelDir, spec, problems, { weights: !(options.planOnly && located.modelSource) });
  const data = await checkDataset(ws, spec, problems);
  if (!located || !modelConfig || !data) return null;
  return { ...located, modelConfig, ...data };
}

/**
 * The spec's model folder: a folder (relative to the workspace) as is; a Hub name (org/name[@rev]) that is not
 * a folder here is resolved through the HF cache, downloading it if needed, before any compute is spent.
 * Anything else is left to checkModelFolder, which reports a missing folder.
 */
async function locateModel(ws: Workspace, model: string, problems: ConfigProblem[], purpose: ModelPurpose = "model"): Promise<{ modelDir: string; modelSource?: ModelSource } | null> {
  try {
    const hub = await resolveHubModel(model, { baseDir: ws.root, purpose });
    if (hub) return { modelDir: hub.dir, modelSource: { repo: hub.repo!, revision: hub.revision!, commit: hub.commit! } };
  } catch (e) {
    if (!isTunekitError(e)) throw e;
    problems.push({ path: "model", value: model, message: e.message, fix: e.fix ?? "check the Hub name (org/name[@revision])" });
    return null;
  }
  return { modelDir: isAbsolute(model) ? model : resolve(ws.root, model) };
}

/** fsdp shards what full fine-tuning trains; it needs several processes and is not for LoRA. */
export function checkDistributed(spec: Pick<TrainSpec, "distributed" | "processes" | "method">, problems: ConfigProblem[]): void {
  if (spec.distributed !== "fsdp") return;
  if (spec.processes < 2) {
    problems.push({ path: "distributed", value: "fsdp", message: "distributed: fsdp shards across processes, but processes is 1", fix: "set processes to the number of GPUs (e.g. processes: 2), or remove distributed: fsdp" });
  }
  if (spec.method !== "full") {
    problems.push({ path: "distributed", value: "fsdp", message: `distributed: fsdp is for full fine-tuning; this run's method is ${spec.method}`, fix: "use distributed: ddp for LoRA (its trainable weights are small and the frozen model is shared per GPU), or method: full" });
  }
}

export function checkModelFolder(modelDir: string, spec: Pick<TrainSpec, "model" | "seqLen">, problems: ConfigProblem[], check: { weights: boolean } = { weights: true }): ModelConfig | null {
  const at = (message: string, fix: string) => problems.push({ path: "model", value: spec.model, message, fix });
  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory()) {
    at(`model folder ${modelDir} does not exist`, "point model at a Hugging Face model folder (config.json, *.safetensors, tokenizer.json)");
    return null;
  }
  const files = readdirSync(modelDir);
  let config: ModelConfig | null = null;
  if (!files.includes("config.json")) at(`${modelDir} has no config.json`, "download the complete model folder (config.json is required)");
  else {
    try {
      config = JSON.parse(readFileSync(join(modelDir, "config.json"), "utf8")) as ModelConfig;
    } catch (e) {
      at(`${join(modelDir, "config.json")} is not valid JSON (${(e as Error).message})`, "re-download config.json");
    }
  }
  if (check.weights && !files.some((f) => f.endsWith(".safetensors"))) {
    at(`${modelDir} has no *.safetensors weights`, "tunekit reads safetensors only; convert .bin weights with `model.save_pretrained(dir, safe_serialization=True)`");
  }
  if (!files.includes("tokenizer.json")) {
    at(`${modelDir} has no tokenizer.json`, "save the fast tokenizer with `AutoTokenizer.from_pretrained(...).save_pretrained(dir)`");
  }
  if (config) {
    const arch = config.architectures?.[0];
    if (!arch || !SUPPORTED_ARCHITECTURES.includes(arch)) {
      at(`architecture ${JSON.stringify(arch ?? null)} (config.json) is not supported`, `use a model of one of: ${SUPPORTED_ARCHITECTURES.join(", ")}`);
      return null;
    }
    const maxPos = config.max_position_embeddings;
    if (typeof maxPos === "number" && spec.seqLen > maxPos) {
      problems.push({
        path: "seqLen",
        value: spec.seqLen,
        message: `is longer than the model's max_position_embeddings (${maxPos})`,
        fix: `use seqLen ≤ ${maxPos}`,
      });
    }
  }
  return config;
}

async function checkDataset(ws: Workspace, spec: TrainSpec, problems: ConfigProblem[]) {
  let version: DatasetVersion;
  try {
    version = await ws.registry.resolveDatasetVersion(spec.dataset);
  } catch (e) {
    if (!isTunekitError(e)) throw e;
    problems.push({ path: "dataset", value: spec.dataset, message: e.message, fix: e.fix ?? "list versions with `tunekit data versions`" });
    return null;
  }
  const splits = await countSplits(ws, version);
  const ref = `${version.datasetName}@${version.number}`;
  if (splits.train + splits.unassigned === 0) {
    problems.push({
      path: "dataset",
      value: spec.dataset,
      message: `${ref} has no train records`,
      fix: "split the dataset (`tunekit data split NAME`) so records carry metadata.split = train",
    });
  }
  if (spec.eval.enabled && splits.val === 0) {
    problems.push({
      path: "eval.enabled",
      value: true,
      message: `${ref} has no val records, so validation loss cannot be measured`,
      fix: "split the dataset with a val share (`tunekit data split NAME`), or set eval.enabled: false",
    });
  }
  if (spec.earlyStopping && !spec.eval.enabled) {
    problems.push({ path: "earlyStopping", value: spec.earlyStopping, message: "early stopping needs validation loss", fix: "set eval.enabled: true, or remove earlyStopping" });
  }
  return { version, splits };
}

/** Records per split (metadata.split); records without one count as `unassigned` and are trained on. */
export async function countSplits(ws: Pick<Workspace, "registry" | "artifacts">, version: DatasetVersion): Promise<SplitCounts> {
  const counts: SplitCounts = { train: 0, val: 0, test: 0, unassigned: 0 };
  for await (const record of readVersion(ws, version)) counts[splitOf(record.metadata)]++;
  return counts;
}

export function splitOf(metadata: Record<string, unknown> | undefined): keyof SplitCounts {
  const s = metadata?.split;
  if (s === "train" || s === "val" || s === "test") return s;
  if (s === "validation") return "val";
  return "unassigned";
}
