import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { configErrorFrom, type ConfigProblem } from "../config/index.js";
import { isPreferenceRecord, splitMembership, readVersion } from "../data/index.js";
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
  /** Records with no metadata.split: trained on, like train. */
  unassigned: number;
  /** Records whose metadata.split is none of train/val/test (e.g. "holdout"): left out of training. */
  unknown: number;
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
  /** initAdapter resolved to an absolute folder (checked against the spec's lora settings). */
  initAdapterDir?: string | null;
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
  const initAdapterDir = checkInitAdapter(ws, spec, problems);
  if (!located || !modelConfig || !data) return null;
  return { ...located, modelConfig, ...data, initAdapterDir };
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
  const { splits, kinds } = await scanVersion(ws, version, spec.eval.enabled);
  const ref = `${version.datasetName}@${version.number}`;
  checkObjective(spec, ref, kinds, problems);
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

/** Records per split by the one membership rule (src/data/split-membership.ts). */
export async function countSplits(ws: Pick<Workspace, "registry" | "artifacts">, version: DatasetVersion): Promise<SplitCounts> {
  return (await scanVersion(ws, version, true)).splits;
}

/** Record kinds among the records a run compiles (train, and val when evaluating): preference pairs vs the rest. */
interface CompiledKinds {
  preference: number;
  other: number;
}

async function scanVersion(ws: Pick<Workspace, "registry" | "artifacts">, version: DatasetVersion, withVal: boolean): Promise<{ splits: SplitCounts; kinds: CompiledKinds }> {
  const counts: SplitCounts = { train: 0, val: 0, test: 0, unassigned: 0, unknown: 0 };
  const kinds: CompiledKinds = { preference: 0, other: 0 };
  for await (const record of readVersion(ws, version)) {
    const { split, label } = splitMembership(record.metadata);
    counts[split === null ? "unknown" : split === "train" && label === null ? "unassigned" : split]++;
    if (split === "train" || (withVal && split === "val")) kinds[isPreferenceRecord(record) ? "preference" : "other"]++;
  }
  return { splits: counts, kinds };
}

/** sft trains chat/text records, dpo/orpo preference records: a version must hold only the kind its objective trains. */
function checkObjective(spec: TrainSpec, ref: string, kinds: CompiledKinds, problems: ConfigProblem[]): void {
  if (spec.objective === "sft") {
    if (kinds.preference > 0) {
      problems.push({ path: "objective", value: "sft", message: `${ref} has ${kinds.preference} preference records (preferred_output / non_preferred_output), which supervised fine-tuning cannot train`, fix: "set objective: dpo (or orpo) to train on the preference pairs, or train a version without them" });
    }
    return;
  }
  if (kinds.preference === 0) {
    problems.push({ path: "objective", value: spec.objective, message: `objective ${spec.objective} trains on preference records, but the train split of ${ref} has none`, fix: "add preference records ({input, preferred_output, non_preferred_output}) to the dataset, or use objective: sft" });
  } else if (kinds.other > 0) {
    problems.push({ path: "dataset", value: spec.dataset, message: `${ref} mixes ${kinds.other} chat/text records with ${kinds.preference} preference records; objective ${spec.objective} trains on preference records only`, fix: "make a version holding only the preference records, and train the chat/text records in an sft run" });
  }
  if (spec.processes > 1) {
    problems.push({ path: "processes", value: spec.processes, message: `objective ${spec.objective} runs in one process for now`, fix: "set processes: 1" });
  }
}

/** initAdapter: a LoRA run continues a PEFT adapter whose r, alpha, targets and rsLoRA equal the spec's lora. */
function checkInitAdapter(ws: Pick<Workspace, "root">, spec: TrainSpec, problems: ConfigProblem[]): string | null {
  if (spec.initAdapter === undefined) return null;
  const dir = isAbsolute(spec.initAdapter) ? spec.initAdapter : resolve(ws.root, spec.initAdapter);
  const at = (message: string, fix: string) => problems.push({ path: "initAdapter", value: spec.initAdapter, message, fix });
  if (spec.method !== "lora") {
    at(`initAdapter continues a LoRA adapter, but method is ${spec.method}`, "use method: lora, or merge the adapter into a model folder (`tunekit model merge`) and fully fine-tune that as model");
    return null;
  }
  const configPath = join(dir, "adapter_config.json");
  if (!existsSync(configPath) || !existsSync(join(dir, "adapter_model.safetensors"))) {
    at(`${dir} is not a PEFT adapter folder (adapter_config.json and adapter_model.safetensors)`, "point initAdapter at a run's output/adapter folder (`tunekit model list` shows each model's path)");
    return null;
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
  } catch (e) {
    at(`${configPath} is not valid JSON (${(e as Error).message})`, "re-save the adapter");
    return null;
  }
  const sorted = (v: unknown) => (Array.isArray(v) ? [...(v as string[])].sort() : v);
  const diffs = (
    [
      ["r", spec.lora.r, raw.r],
      ["alpha", spec.lora.alpha, raw.lora_alpha],
      ["targetModules", sorted(spec.lora.targetModules), sorted(raw.target_modules)],
      ["useRslora", spec.lora.useRslora, raw.use_rslora ?? false],
    ] as const
  ).filter(([, mine, theirs]) => JSON.stringify(mine) !== JSON.stringify(theirs));
  if (diffs.length) {
    at(
      `the adapter's LoRA settings differ from this spec's: ${diffs.map(([k, mine, theirs]) => `lora.${k} is ${JSON.stringify(mine)}, the adapter's ${JSON.stringify(theirs)}`).join("; ")}`,
      `set ${diffs.map(([k, , theirs]) => `lora.${k}: ${JSON.stringify(theirs)}`).join(", ")} (from ${configPath})`,
    );
  }
  return dir;
}
