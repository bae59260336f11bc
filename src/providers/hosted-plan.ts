import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PriceCatalog, estimateCandidate, hostedPathStatus, type CandidateEstimate, type ClosureStatus, type RetirementStatus } from "../cost/index.js";
import { exportRecords, readVersion, type ExportReport, type TargetName } from "../data/index.js";
import { ConfigError } from "../errors/index.js";
import type { DatasetVersion, Workspace } from "../registry/index.js";
import { countTokensDetailed } from "../tokenize/index.js";
import { BedrockBackend, bedrockServingWarning } from "./bedrock/backend.js";
import { bedrockFamilyOf } from "./bedrock/base-models.js";
import type { HostedOptions } from "./spec.js";
import type { HostedProvider } from "./types.js";

/**
 * Everything decided before a hosted job spends money: the dataset exported and validated for the target,
 * token counts, the cost estimate, the base model's retirement, and warnings (Bedrock's provisioned throughput).
 */
export interface HostedJobSpec {
  provider: HostedProvider;
  model: string;
  dataset: string;
  name?: string;
  epochs: number;
  seed?: number;
  hosted: HostedOptions;
}

export interface HostedPlan {
  spec: HostedJobSpec;
  version: DatasetVersion;
  export: Pick<ExportReport, "target" | "exported" | "skipped" | "skippedByCode">;
  files: { training: string; validation?: string };
  tokens: { training: number; validation: number; encoding: string; estimate: boolean };
  epochs: number;
  estimate: CandidateEstimate | null;
  retirement: RetirementStatus | null;
  /** The provider's fine-tuning service closing to new jobs (OpenAI's wind-down), as of planning. */
  closure: ClosureStatus | null;
  warnings: string[];
}

export function targetFor(spec: Pick<HostedJobSpec, "provider" | "hosted" | "model">): TargetName {
  if (spec.provider === "openai") return spec.hosted.openai.method === "dpo" ? "openai-dpo" : "openai";
  // Bedrock's data format follows the base model: Claude's messages, Nova's bedrock-conversation-2024, Llama's prompt/completion.
  if (spec.provider === "bedrock") return bedrockFamilyOf(spec.model).target;
  return spec.provider;
}

/** The epochs the job will train for (provider setting, else train.yaml; OpenAI "auto" estimated as 3). */
export function plannedEpochs(spec: HostedJobSpec): number {
  if (spec.provider === "openai") {
    const n = spec.hosted.openai.nEpochs;
    return n === "auto" ? 3 : (n ?? Math.max(1, Math.round(spec.epochs)));
  }
  if (spec.provider === "bedrock") return spec.hosted.bedrock.epochCount ?? Math.min(bedrockFamilyOf(spec.model).hyperparameters.epochCount!.max, Math.max(1, Math.round(spec.epochs)));
  return spec.hosted.together.nEpochs ?? Math.max(1, Math.round(spec.epochs));
}

/** Tokens of an exported JSONL file, with the provider's tokenizer where public (Claude/Llama: an estimate). */
export function countFileTokens(path: string, provider: HostedProvider, model: string): { tokens: number; encoding: string; estimate: boolean } {
  let tokens = 0;
  let encoding = "o200k_base";
  let estimate = provider !== "openai";
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const texts: string[] = [];
    collectText(JSON.parse(line), texts);
    // Claude's factor only for Claude; Nova's and Llama's tokenizers are not counted here either: o200k_base estimates.
    const opts = provider === "openai" ? { model } : provider === "bedrock" && bedrockFamilyOf(model).family === "claude" ? { model: "claude-3-haiku" } : { encoding: "o200k_base" as const };
    const c = countTokensDetailed(texts.join("\n"), opts);
    encoding = c.encoding;
    estimate = estimate || c.estimate;
    tokens += c.tokens + 4 * Math.max(1, texts.length); // per-message framing, as OpenAI's cookbook counts it
  }
  return { tokens, encoding, estimate };
}

function collectText(value: unknown, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => collectText(v, out));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) if (k !== "role" && k !== "type" && k !== "schemaVersion") collectText(v, out);
}

export async function planHostedRun(ws: Workspace, spec: HostedJobSpec, options: { workDir: string; today?: Date }): Promise<HostedPlan> {
  if (spec.provider === "bedrock") {
    const missing = BedrockBackend.requiredSettings(spec.hosted.bedrock);
    if (missing.length) throw new ConfigError("PROVIDER_BEDROCK_SETTINGS_MISSING", `Bedrock fine-tuning needs ${missing.join(" and ")}`, { fix: "add them under hosted.bedrock in train.yaml" });
    const problems = new BedrockBackend({ options: spec.hosted.bedrock, epochs: spec.epochs }).settingsProblems(spec.model);
    if (problems.length) throw new ConfigError("PROVIDER_BEDROCK_SETTINGS_INVALID", problems.join("; "), { fix: "remove the settings that do not apply, or bring them into the documented range, under hosted.bedrock in train.yaml" });
  }
  const version = await ws.registry.resolveDatasetVersion(spec.dataset);
  const target = targetFor(spec);
  mkdirSync(options.workDir, { recursive: true });
  const report = await exportRecords(readVersion(ws, version), { target, outDir: options.workDir, prefix: "dataset", model: spec.provider === "together" ? undefined : spec.model });
  const training = report.files.find((f) => f.split === "train")?.path;
  if (!training) throw new ConfigError("PROVIDER_NO_TRAINING_SPLIT", `dataset ${spec.dataset} has no train split records valid for ${target}`, { fix: "split the dataset (`tunekit data split`) and validate it for this target" });
  // The exporter names files by canonical split (src/data/split-membership.ts): "validation" and "valid" are "val".
  const validation = report.files.find((f) => f.split === "val")?.path;
  const trainTokens = countFileTokens(training, spec.provider, spec.model);
  const valTokens = validation ? countFileTokens(validation, spec.provider, spec.model) : { tokens: 0 };
  const epochs = plannedEpochs(spec);
  const cost = ws.config.cost;
  const catalog = PriceCatalog.withOverrides(cost.prices);
  const warnings: string[] = [];
  let estimate: CandidateEstimate | null = null;
  if (catalog.find(spec.provider, spec.model)) {
    estimate = estimateCandidate(catalog, { provider: spec.provider, model: spec.model }, {
      trainingTokens: trainTokens.tokens, epochs,
      validationTokens: spec.provider === "together" ? valTokens.tokens : 0, evals: spec.provider === "together" && validation ? Math.max(1, spec.hosted.together.nEvals) : 0,
      method: spec.provider === "openai" ? spec.hosted.openai.method : spec.provider === "together" ? spec.hosted.together.method : "sft",
      type: spec.provider === "together" ? spec.hosted.together.trainingType : undefined,
      workload: { requestsPerMonth: 0, basePromptTokens: 0, fineTunedPromptTokens: 0, outputTokens: 0 },
      dataPrep: { hours: cost.dataPrepHours, hourlyRate: cost.dataPrepHourlyRate },
    }, undefined, { today: options.today, warnDays: cost.retirementWarningDays });
  } else warnings.push(`no price for ${spec.provider} ${spec.model} in the catalog: the training cost is unknown (add it under cost.prices in tunekit.yaml)`);
  if (spec.provider === "bedrock") warnings.push(bedrockServingWarning(spec.model));
  if (spec.provider === "openai" && spec.hosted.openai.nEpochs === "auto") warnings.push("epochs are \"auto\": the estimate assumes 3; OpenAI picks the real number from the dataset size");
  if (trainTokens.estimate) warnings.push(`token counts are estimates (${trainTokens.encoding}); the provider's tokenizer is not public`);
  if (report.skipped > 0) warnings.push(`${report.skipped} record(s) failed ${target} validation and were left out: ${Object.entries(report.skippedByCode).map(([c, n]) => `${c}×${n}`).join(", ")}`);
  const { retirement, closure, warnings: pathWarnings } = hostedPathStatus(spec.provider, spec.model, { today: options.today, warnDays: cost.retirementWarningDays });
  warnings.push(...pathWarnings);
  if (closure?.closed) warnings.push(`submitting will be refused: ${closure.service} closed on ${closure.closesOn}; pass --allow-closed-provider only if your organisation still has access`);
  return {
    spec, version,
    export: { target, exported: report.exported, skipped: report.skipped, skippedByCode: report.skippedByCode },
    files: { training, ...(validation ? { validation } : {}) },
    tokens: { training: trainTokens.tokens, validation: valTokens.tokens, encoding: trainTokens.encoding, estimate: trainTokens.estimate },
    epochs, estimate, retirement, closure, warnings,
  };
}

export function planWorkDir(ws: Workspace, name: string): string {
  return join(ws.stateDir, "hosted", name);
}
