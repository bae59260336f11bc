import { UsageError } from "../errors/index.js";
import { lookupThroughput, type PriceCatalog, type PriceEntry, type ThroughputRow } from "./catalog/index.js";
import { hostedPathStatus } from "./service-closure.js";
import { requestCostUsd, roundUsd, tokensCostUsd } from "./token-cost.js";

/** Hours in an average month (365.25 × 24 / 12, rounded as cloud bills do). */
export const HOURS_PER_MONTH = 730;

export interface Workload {
  requestsPerMonth: number;
  /** Prompt tokens per request for the base model: the long prompt (instructions + few-shot examples). */
  basePromptTokens: number;
  /** Prompt tokens per request for the fine-tuned model: the short prompt. */
  fineTunedPromptTokens: number;
  outputTokens: number;
}

export interface EstimateInput {
  /** Tokens in one pass over the training set (as the provider counts them). */
  trainingTokens: number;
  /** Tokens in the validation set and how many times it is evaluated (Together bills those too). */
  validationTokens?: number;
  evals?: number;
  epochs: number;
  method?: "sft" | "dpo";
  /** lora|full for Together and local; ignored by hosted providers. */
  type?: "lora" | "full";
  workload: Workload;
  dataPrep: { hours: number; hourlyRate: number };
  /** ROI horizon in months. */
  months?: number;
}

export interface Candidate {
  provider: PriceEntry["provider"];
  model: string;
  /** Local only: model size in billions of parameters. */
  paramsB?: number;
}

export interface LocalSettings {
  gpuHourlyRate: number;
  gpuCount: number;
  tokensPerSecond?: number;
}

export interface CandidateEstimate {
  provider: string;
  model: string;
  method: "sft" | "dpo";
  type: "hosted" | "lora" | "full";
  trainedTokens: number;
  training: { perMTok: number | null; costUsd: number | null };
  local: { gpuHours: number; gpuCount: number; hourlyRate: number; tokensPerSecond: number; throughput: string } | null;
  inference: { baseMonthlyUsd: number | null; fineTunedMonthlyUsd: number | null; hostingMonthlyUsd: number | null; savingsMonthlyUsd: number | null };
  dataPrepUsd: number;
  upfrontUsd: number | null;
  breakEvenRequestsPerMonth: number | null;
  paybackMonths: number | null;
  roi: number | null;
  months: number;
  uncertain: string[];
  notes: string[];
  /** The hosted path is closing or closed (service wind-down, base model retirement): date, days left, source, fix. */
  warnings: string[];
  source: { url: string; checkedOn: string } | null;
}

/** The clock for retirement and closure warnings (tests fix it) and how far ahead to warn. */
export interface EstimateOptions {
  today?: Date;
  warnDays?: number;
}

const usd = roundUsd;
const perReq = requestCostUsd;

export function validateEstimateInput(input: EstimateInput): void {
  const bad: string[] = [];
  const check = (name: string, v: number | undefined, min = 0) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= min)) bad.push(`${name}=${v}`);
  };
  check("trainingTokens", input.trainingTokens);
  check("epochs", input.epochs, 1);
  check("requestsPerMonth", input.workload.requestsPerMonth);
  check("basePromptTokens", input.workload.basePromptTokens);
  check("fineTunedPromptTokens", input.workload.fineTunedPromptTokens);
  check("outputTokens", input.workload.outputTokens);
  check("dataPrep.hours", input.dataPrep.hours);
  check("months", input.months, 1);
  if (bad.length) {
    throw new UsageError("COST_INPUT_INVALID", `invalid estimate inputs: ${bad.join(", ")}`, {
      fix: "token counts, volumes and hours must be finite numbers ≥ 0; epochs and months ≥ 1",
    });
  }
}

/** Training, inference and ROI for one hosted candidate (priced from the catalog) or the local trainer. */
export function estimateCandidate(catalog: PriceCatalog, candidate: Candidate, input: EstimateInput, local?: LocalSettings, options: EstimateOptions = {}): CandidateEstimate {
  validateEstimateInput(input);
  const method = input.method ?? "sft";
  const months = input.months ?? 12;
  const trainedTokens = input.trainingTokens * input.epochs + (input.validationTokens ?? 0) * (input.evals ?? 0);
  const dataPrepUsd = usd(input.dataPrep.hours * input.dataPrep.hourlyRate);
  const notes: string[] = [];
  const uncertain: string[] = [];

  if (candidate.provider === "local") {
    if (!local) throw new UsageError("COST_LOCAL_SETTINGS_MISSING", "a local estimate needs the GPU hourly rate", { fix: "set cost.gpuHourlyRate in tunekit.yaml" });
    const mode = input.type ?? "lora";
    const row: ThroughputRow = local.tokensPerSecond
      ? { paramsB: candidate.paramsB ?? 0, gpu: "configured", mode, tokensPerSecond: local.tokensPerSecond, basis: "measured", how: "cost.localTokensPerSecond" }
      : lookupThroughput(candidate.paramsB ?? 1, mode);
    if (row.basis === "assumed") uncertain.push("local.tokensPerSecond");
    const gpuHours = trainedTokens / row.tokensPerSecond / 3600;
    const cost = usd(gpuHours * local.gpuHourlyRate * local.gpuCount);
    notes.push("self-hosted serving cost is not estimated (depends on your serving hardware)");
    return {
      provider: "local", model: candidate.model, method, type: mode, trainedTokens,
      training: { perMTok: null, costUsd: cost },
      local: { gpuHours: Math.round(gpuHours * 1e4) / 1e4, gpuCount: local.gpuCount, hourlyRate: local.gpuHourlyRate, tokensPerSecond: row.tokensPerSecond, throughput: `${row.basis}: ${row.how}` },
      inference: { baseMonthlyUsd: null, fineTunedMonthlyUsd: null, hostingMonthlyUsd: null, savingsMonthlyUsd: null },
      dataPrepUsd, upfrontUsd: usd(cost + dataPrepUsd), breakEvenRequestsPerMonth: null, paybackMonths: null, roi: null,
      months, uncertain, notes, warnings: [], source: null,
    };
  }

  const entry = catalog.get(candidate.provider, candidate.model);
  const type = entry.provider === "together" ? (input.type ?? "lora") : "hosted";
  const price = catalog.trainingPrice(entry.provider, entry.model, { method, type });
  if (!price) notes.push(`${entry.model} has no ${method}/${type} training price in the catalog`);
  const unsure = (field: string) => entry.unsure.some((u) => u === field || field.startsWith(`${u}.`) || u.startsWith(`${field}.`));
  if (price && unsure(`training.${method}`)) uncertain.push(`training.${method}`);
  const trainingUsd = price ? usd(tokensCostUsd(trainedTokens, price.perMTok)) : null;

  const w = input.workload;
  const baseMonthly = entry.base ? usd(w.requestsPerMonth * perReq(entry.base, w.basePromptTokens, w.outputTokens)) : null;
  if (!entry.base) notes.push("the base model has no per-token price");
  const ftTokens = entry.fineTuned ? w.requestsPerMonth * perReq(entry.fineTuned, w.fineTunedPromptTokens, w.outputTokens) : entry.hostingRequired ? 0 : null;
  const hostingMonthly = entry.hostingPerHour === null ? null : usd(entry.hostingPerHour * HOURS_PER_MONTH + entry.storagePerMonth);
  if (entry.hostingRequired) notes.push("the fine-tuned model can only be served on reserved capacity (provisioned throughput), billed per hour");
  if (entry.hostingPerHour === null) notes.push("hosting price unknown: set cost.prices[].hostingPerHour in tunekit.yaml");
  for (const f of ["fineTuned", "hostingPerHour", "storagePerMonth"]) if (unsure(f)) uncertain.push(f);
  const ftMonthly = ftTokens === null || hostingMonthly === null ? null : usd(ftTokens + hostingMonthly);
  const savings = baseMonthly === null || ftMonthly === null ? null : usd(baseMonthly - ftMonthly);
  const upfront = trainingUsd === null ? null : usd(trainingUsd + dataPrepUsd);

  let breakEven: number | null = null;
  if (entry.base && entry.fineTuned !== null && hostingMonthly !== null && upfront !== null) {
    const savedPerRequest = perReq(entry.base, w.basePromptTokens, w.outputTokens) - perReq(entry.fineTuned, w.fineTunedPromptTokens, w.outputTokens);
    if (savedPerRequest > 0) breakEven = Math.ceil((upfront / months + hostingMonthly) / savedPerRequest);
    else notes.push("the fine-tuned model costs more per request than the base model with the long prompt: it never pays back on cost alone");
  } else if (entry.fineTuned === null && entry.hostingRequired && hostingMonthly !== null && entry.base && upfront !== null) {
    const savedPerRequest = perReq(entry.base, w.basePromptTokens, w.outputTokens);
    breakEven = savedPerRequest > 0 ? Math.ceil((upfront / months + hostingMonthly) / savedPerRequest) : null;
  }
  const paybackMonths = savings !== null && savings > 0 && upfront !== null ? Math.round((upfront / savings) * 100) / 100 : null;
  const roi = savings !== null && upfront !== null && upfront > 0 ? Math.round(((savings * months - upfront) / upfront) * 1e4) / 1e4 : null;

  return {
    provider: entry.provider, model: entry.model, method, type, trainedTokens,
    training: { perMTok: price?.perMTok ?? null, costUsd: trainingUsd },
    local: null,
    inference: { baseMonthlyUsd: baseMonthly, fineTunedMonthlyUsd: ftMonthly, hostingMonthlyUsd: hostingMonthly, savingsMonthlyUsd: savings },
    dataPrepUsd, upfrontUsd: upfront, breakEvenRequestsPerMonth: breakEven, paybackMonths, roi, months,
    uncertain, notes, warnings: hostedPathStatus(entry.provider, entry.model, options).warnings, source: entry.source,
  };
}
