import { UsageError } from "../../errors/index.js";
import type { PriceCatalog } from "../../cost/index.js";
import type { EvalSummary, CandidateSummary } from "../suite/summarize.js";
import { formatMetric, formatUsd } from "../report/format-values.js";
import { hostedPathNotes, hostedPathReasons } from "./hosted-path-advice.js";

/**
 * Keep prompting, add retrieval, fine-tune, or collect data first — following the usual guidance: optimise
 * prompts before fine-tuning; fine-tuning teaches behaviour and format, retrieval supplies knowledge;
 * rapidly changing requirements favour prompts and retrieval (no retraining); fine-tuning needs enough
 * examples (dozens to start, more for many labels, each rare label needs its own examples). Every rule that
 * fires adds a reason with the numbers behind it.
 */
export type Recommendation = "keep-prompting" | "add-retrieval" | "fine-tune" | "collect-data";

export interface AdviceInput {
  summary: EvalSummary;
  trainExamples: number;
  /** Counts per label in the train split (classification), else omitted. */
  labelCounts?: Record<string, number>;
  /** Quality the task needs, in the primary metric's units (fraction for accuracy). */
  target?: number;
  changingRequirements?: boolean;
  knowledgeHeavy?: boolean;
  monthlyVolume?: number;
  /**
   * USD per million training tokens, to price a fine-tune: `--train-price`, else the price catalog's entry for
   * the model to fine-tune (`trainingPriceFor`). Absent: the training cost and break-even are reported as
   * unavailable — never an assumed price.
   */
  trainPricePerMTok?: number;
  /** Where trainPricePerMTok came from ("--train-price", "catalog openai/gpt-4o-mini-2024-07-18"), for the reasons. */
  trainPriceSource?: string;
  epochs?: number;
  meanTrainTokensPerExample?: number;
  /** The clock for closing hosted paths (OpenAI's fine-tuning wind-down, base model retirements); tests fix it. */
  today?: Date;
  /** Warn when a hosted path closes within this many days (cost.retirementWarningDays). */
  warnDays?: number;
}

export interface Advice {
  recommendation: Recommendation;
  headline: string;
  reasons: string[];
  numbers: Record<string, number | string | null>;
}

const MIN_EXAMPLES = 50;
const MIN_PER_LABEL = 10;

function isRetrieval(c: CandidateSummary): boolean {
  return /bm25/.test(c.prompt);
}
/** Explicit `fineTuned` in the suite wins; else a local adapter, or an OpenAI-style "ft:" model id. */
function isFineTuned(c: CandidateSummary): boolean {
  if (c.fineTuned !== undefined) return c.fineTuned;
  return c.backend.type === "local" ? c.backend.adapterDir !== null && c.backend.adapterDir !== undefined : /^ft:/i.test(String(c.backend.model ?? ""));
}

const BASELINE_YAML = `candidates:
  - name: base-zero-shot
    type: openai            # or local with modelDir: (the base model you would fine-tune)
    model: gpt-4o-mini
  - name: base-few-shot
    type: openai
    model: gpt-4o-mini
    prompt: { system: "…", fewShot: { k: 8 } }`;

/**
 * Without a baseline (the base model, prompted) there is nothing to compare a fine-tune against: a fine-tuned
 * candidate would be compared with itself. Refuse instead of advising on it.
 */
function requireBaseline(summary: EvalSummary, baselines: readonly CandidateSummary[]): void {
  if (baselines.length > 0) return;
  const names = summary.candidates.map((c) => c.name);
  throw new UsageError("EVAL_NO_BASELINE", `the eval has no baseline candidate: every candidate (${names.join(", ") || "none"}) is fine-tuned, so there is no prompted base model to compare against`, {
    fix: `add the base model as a candidate (zero-shot and with your best prompt) to eval.yaml, run the eval again and advise from that run:\n${BASELINE_YAML}\n(a candidate counts as fine-tuned when it has a local adapterDir, an ft: model id or fineTuned: true)`,
    details: { candidates: names },
  });
}

/**
 * The supervised training price of the model a baseline candidate runs, from the price catalog (built-in plus
 * tunekit.yaml `cost.prices`); undefined when the catalog has none (a local model trains on GPU hours, not per
 * token, and an unknown endpoint has no catalog entry).
 */
export function trainingPriceFor(catalog: Pick<PriceCatalog, "find">, candidate: Pick<CandidateSummary, "backend">): { perMTok: number; source: string } | undefined {
  if (candidate.backend.type !== "openai" || typeof candidate.backend.model !== "string") return undefined;
  const entry = catalog.find("openai", candidate.backend.model);
  const price = entry?.training.find((t) => t.method === "sft");
  return entry && price ? { perMTok: price.perMTok, source: `catalog ${entry.provider}/${entry.model}` } : undefined;
}

/** The baseline whose model a fine-tune would start from: the best prompted candidate on the primary metric. */
export function bestBaseline(summary: EvalSummary): CandidateSummary | undefined {
  const m = summary.primaryMetric;
  const value = (c: CandidateSummary) => c.metrics[m]?.value ?? Number.NEGATIVE_INFINITY;
  return summary.candidates.filter((c) => !isFineTuned(c)).sort((a, b) => value(b) - value(a))[0];
}

/** The catalog's training price for the best baseline's model: what `advise` uses when no price is given. */
export function catalogTrainingPrice(summary: EvalSummary, catalog: Pick<PriceCatalog, "find">): { perMTok: number; source: string } | undefined {
  const baseline = bestBaseline(summary);
  return baseline ? trainingPriceFor(catalog, baseline) : undefined;
}

export function advise(input: AdviceInput): Advice {
  const { summary } = input;
  const m = summary.primaryMetric;
  const unit = summary.candidates[0]?.metrics[m]?.unit ?? "fraction";
  const value = (c: CandidateSummary) => c.metrics[m]?.value ?? Number.NEGATIVE_INFINITY;
  const prompting = summary.candidates.filter((c) => !isFineTuned(c) && !isRetrieval(c));
  const retrieval = summary.candidates.filter((c) => !isFineTuned(c) && isRetrieval(c));
  const tuned = summary.candidates.filter(isFineTuned);
  requireBaseline(summary, [...prompting, ...retrieval]);
  const best = (cs: CandidateSummary[]) => cs.slice().sort((a, b) => value(b) - value(a))[0];
  const bestPrompt = best(prompting) ?? best(retrieval);
  const bestRag = best(retrieval);
  const bestTuned = best(tuned);
  const reasons: string[] = [];
  const fmt = (v: number | null | undefined) => formatMetric(v ?? null, unit);
  const numbers: Advice["numbers"] = {
    primaryMetric: m,
    bestPrompt: bestPrompt?.name ?? null,
    bestPromptValue: bestPrompt ? value(bestPrompt) : null,
    trainExamples: input.trainExamples,
    target: input.target ?? null,
  };
  const sig = (a: string, b: string) => summary.comparisons.find((c) => c.metric === m && ((c.a === a && c.b === b) || (c.a === b && c.b === a)));

  const labelCounts = input.labelCounts ?? {};
  const labels = Object.keys(labelCounts);
  const rare = labels.filter((l) => labelCounts[l] < MIN_PER_LABEL);
  if (labels.length) {
    const counts = labels.map((l) => labelCounts[l]);
    numbers.labels = labels.length;
    numbers.minPerLabel = Math.min(...counts);
    numbers.maxPerLabel = Math.max(...counts);
    numbers.imbalanceRatio = Math.max(...counts) / Math.max(1, Math.min(...counts));
    numbers.rareLabels = rare.length;
  }
  const meetsTarget = input.target !== undefined && bestPrompt !== undefined && value(bestPrompt) >= input.target;
  const gap = input.target !== undefined && bestPrompt ? input.target - value(bestPrompt) : null;
  numbers.gapToTarget = gap;

  // Fine-tuned candidate already measured: let the comparison speak.
  if (bestTuned && bestPrompt) {
    const c = sig(bestTuned.name, bestPrompt.name);
    if (c) reasons.push(`measured: ${c.verdict}`);
  }
  let recommendation: Recommendation;
  if (meetsTarget) {
    recommendation = "keep-prompting";
    reasons.push(`${bestPrompt.name} already reaches ${fmt(value(bestPrompt))} ${m}, at or above the target ${fmt(input.target)}: prompting is cheaper to change and needs no training.`);
  } else if (bestRag && bestPrompt && value(bestRag) > value(bestPrompt) && (sig(bestRag.name, bestPrompt.name)?.pValue ?? 1) < 0.05) {
    recommendation = "add-retrieval";
    reasons.push(`retrieval helps: ${sig(bestRag.name, bestPrompt.name)!.verdict}. Missing knowledge is better supplied by retrieval than baked into weights.`);
  } else if (input.knowledgeHeavy) {
    recommendation = "add-retrieval";
    reasons.push("the task depends on facts from documents: fine-tuning teaches format and behaviour, not reliable recall of facts; add retrieval first.");
  } else if (input.changingRequirements) {
    recommendation = "keep-prompting";
    reasons.push("requirements change rapidly: each change would need new data and a new training run, while a prompt changes in minutes.");
  } else if (input.trainExamples < MIN_EXAMPLES || (labels.length > 0 && rare.length > labels.length / 2)) {
    recommendation = "collect-data";
    reasons.push(
      input.trainExamples < MIN_EXAMPLES
        ? `only ${input.trainExamples} training examples: fine-tuning usually needs at least ${MIN_EXAMPLES}–100 good examples to beat a good prompt.`
        : `${rare.length} of ${labels.length} labels have fewer than ${MIN_PER_LABEL} training examples: the model cannot learn rare classes from so few.`,
    );
  } else if (bestTuned && bestPrompt && (sig(bestTuned.name, bestPrompt.name)?.difference ?? 0) * (sig(bestTuned.name, bestPrompt.name)?.a === bestTuned.name ? 1 : -1) <= 0) {
    recommendation = "keep-prompting";
    reasons.push(`the fine-tuned candidate ${bestTuned.name} does not beat ${bestPrompt.name}; fine-tuning has not paid off on this data.`);
  } else {
    recommendation = "fine-tune";
    reasons.push(
      gap !== null
        ? `the best prompt (${bestPrompt?.name}, ${fmt(bestPrompt ? value(bestPrompt) : null)}) is ${unit === "fraction" ? `${(gap * 100).toFixed(1)} points` : gap.toFixed(2)} short of the target, and there are ${input.trainExamples} training examples to learn from.`
        : `prompting reaches ${fmt(bestPrompt ? value(bestPrompt) : null)} ${m}; with ${input.trainExamples} training examples a fine-tune is the next lever for a narrow, well-defined task.`,
    );
  }
  // Every candidate below the target: say so with each score and its interval, whatever is recommended.
  if (input.target !== undefined) {
    const meeting = summary.candidates.filter((c) => value(c) >= (input.target as number));
    numbers.candidatesMeetingTarget = meeting.length;
    if (meeting.length === 0) {
      const scores = summary.candidates.map((c) => {
        const v = c.metrics[m];
        return `${c.name} ${fmt(v?.value)}${v && v.low !== null && v.high !== null ? ` [${fmt(v.low)}, ${fmt(v.high)}]` : ""}`;
      });
      reasons.push(`no candidate reaches the target ${fmt(input.target)} ${m}: ${scores.join("; ")} (${m} with its confidence interval).`);
    }
  }
  if (rare.length && recommendation === "fine-tune") reasons.push(`${rare.length} labels have fewer than ${MIN_PER_LABEL} examples (${rare.slice(0, 5).join(", ")}${rare.length > 5 ? ", …" : ""}): collect more for them or expect them to stay weak.`);
  if (typeof numbers.imbalanceRatio === "number" && numbers.imbalanceRatio > 10) reasons.push(`labels are imbalanced (largest/smallest = ${numbers.imbalanceRatio.toFixed(0)}×): watch macro-F1, not only accuracy.`);

  // Cost: a fine-tuned model needs no few-shot examples in its prompt; price the saving against training.
  // Only measured token counts and known prices go in: a candidate without a price is named, never guessed.
  const volume = input.monthlyVolume ?? bestPrompt?.cost.monthlyVolume ?? null;
  const unpriced = summary.candidates.filter((c) => c.cost.costPerRequestUsd === null).map((c) => c.name);
  if (unpriced.length) {
    reasons.push(`cost comparison unavailable for ${unpriced.join(", ")}: no price known; give each candidate pricing: {inputPerMTok, outputPerMTok} in eval.yaml (its provider's figures; the built-in catalog is listed in docs/cost.md) and run the eval again.`);
  }
  const zeroShot = summary.candidates.filter((c) => c.prompt === "zero-shot" || c.prompt === "template").sort((a, b) => (a.cost.meanPromptTokens ?? 0) - (b.cost.meanPromptTokens ?? 0))[0];
  if (bestPrompt?.cost.costPerRequestUsd != null && volume) {
    numbers.monthlyCostBestPrompt = bestPrompt.cost.costPerRequestUsd * volume;
    reasons.push(`at ${volume.toLocaleString("en-US")} requests/month ${bestPrompt.name} costs ${formatUsd(numbers.monthlyCostBestPrompt as number)}/month (${formatUsd(bestPrompt.cost.costPerCorrectUsd)} per correct answer).`);
    const tunedCost = bestTuned?.cost.costPerRequestUsd ?? zeroShot?.cost.costPerRequestUsd ?? null;
    if (tunedCost !== null && tunedCost < bestPrompt.cost.costPerRequestUsd) {
      const saving = (bestPrompt.cost.costPerRequestUsd - tunedCost) * volume;
      numbers.monthlySavingFromShorterPrompts = saving;
      const tokensPerExample = input.meanTrainTokensPerExample ?? bestPrompt.cost.meanPromptTokens;
      if (input.trainPricePerMTok === undefined || tokensPerExample === null) {
        numbers.estimatedTrainingCost = null;
        numbers.breakEvenMonths = null;
        reasons.push(
          `a fine-tuned model without the long prompt would save about ${formatUsd(saving)}/month; the training cost and break-even are unavailable: ${input.trainPricePerMTok === undefined ? `no training price is known for ${String(bestPrompt.backend.model ?? bestPrompt.name)} — pass --train-price USD_PER_MTOK, or add its training price under cost.prices in tunekit.yaml` : "no token count per training example was measured"}.`,
        );
      } else {
        const trainCost = (tokensPerExample * input.trainExamples * (input.epochs ?? 3) * input.trainPricePerMTok) / 1e6;
        numbers.estimatedTrainingCost = trainCost;
        numbers.trainPricePerMTok = input.trainPricePerMTok;
        if (input.trainPriceSource) numbers.trainPriceSource = input.trainPriceSource;
        numbers.breakEvenMonths = saving > 0 ? trainCost / saving : null;
        reasons.push(`a fine-tuned model without the long prompt would save about ${formatUsd(saving)}/month; training costs about ${formatUsd(trainCost)}, paid back in ${(trainCost / saving).toFixed(1)} months.`);
      }
    }
  }
  // Closing hosted paths: a fine-tune recommended on OpenAI's closing service, and hosted fine-tunes whose base retires.
  const notes = hostedPathNotes(summary.candidates, isFineTuned, { today: input.today, warnDays: input.warnDays });
  const pathReasons = hostedPathReasons(notes, recommendation === "fine-tune", bestPrompt?.name);
  reasons.push(...pathReasons);
  const closure = notes.find((n) => n.status.closure)?.status.closure;
  if (closure && pathReasons.length > 0) {
    numbers.hostedPathClosesOn = closure.closesOn;
    numbers.hostedPathDaysLeft = closure.daysLeft;
  }
  const openWeight = recommendation === "fine-tune" && notes.some((n) => n.candidate === bestPrompt?.name && !n.fineTuned && n.status.closure?.warning);
  const headline = {
    "keep-prompting": "Keep prompting",
    "add-retrieval": "Add retrieval before fine-tuning",
    "fine-tune": openWeight ? "Fine-tune an open-weight model (OpenAI's hosted fine-tuning is closing)" : "Fine-tune",
    "collect-data": "Collect more data before fine-tuning",
  }[recommendation];
  return { recommendation, headline, reasons, numbers };
}
