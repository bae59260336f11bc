import { OPEN_WEIGHT_FIX, daysUntil, formatDays, retirementFor, type RetirementEntry, type RetirementStatus } from "./retirement.js";

/**
 * Hosted fine-tuning services that stop taking new jobs, as data. A closure is staged: each stage names who
 * loses job creation on which day; `closesOn` is the last stage, when no customer can create a job. Existing
 * fine-tuned models keep serving until their base model retires (retirement.ts), so a closure alone does not
 * break inference — it breaks retraining.
 */
export interface ClosureStage {
  /** YYYY-MM-DD */
  on: string;
  who: string;
}

export interface ServiceClosure {
  provider: RetirementEntry["provider"];
  service: string;
  stages: readonly ClosureStage[];
  closesOn: string;
  source: string;
  /** Secondary sources that quote the primary one (used when the primary page could not be read directly). */
  seeAlso: readonly string[];
  checkedOn: string;
  unsure?: string;
}

export const SERVICE_CLOSURES: ServiceClosure[] = [
  {
    provider: "openai",
    service: "OpenAI self-serve fine-tuning (creating new jobs)",
    stages: [
      { on: "2026-05-07", who: "organisations that had never run fine-tuning" },
      { on: "2026-07-02", who: "organisations without inference on a fine-tuned model in the past 60 days" },
      { on: "2027-01-06", who: "every customer" },
    ],
    closesOn: "2027-01-06",
    source: "https://platform.openai.com/docs/deprecations",
    seeAlso: [
      "https://wpnews.pro/news/openai-enacts-new-self-serve-fine-tuning-restrictions-effective-july-2-2026.md",
      "https://techscurrent.com/2026/07/openai-fine-tuning-cutoff-migration-clock/",
    ],
    checkedOn: "2026-12-03",
  },
];

export interface ClosureStatus {
  provider: string;
  service: string;
  closesOn: string;
  daysLeft: number;
  /** No customer can create a job any more. */
  closed: boolean;
  /** Stages already in force (some organisations are already shut out). */
  stagesInForce: ClosureStage[];
  source: string;
  unsure?: string;
  warning: string | null;
}

export function closureFor(
  provider: RetirementEntry["provider"],
  options: { today?: Date; warnDays?: number; table?: readonly ServiceClosure[] } = {},
): ClosureStatus | null {
  const entry = (options.table ?? SERVICE_CLOSURES).find((c) => c.provider === provider);
  if (!entry) return null;
  const today = options.today ?? new Date();
  const daysLeft = daysUntil(entry.closesOn, today);
  const closed = daysLeft <= 0;
  const stagesInForce = entry.stages.filter((s) => daysUntil(s.on, today) <= 0);
  const earlier = stagesInForce.filter((s) => s.on !== entry.closesOn).map((s) => `since ${s.on} ${s.who} cannot`).join("; ");
  const source = `source: ${entry.source}${entry.unsure ? `, unconfirmed: ${entry.unsure}` : ""}`;
  // Warn once any stage is in force (the org may already be shut out) or the last stage is near.
  const warn = closed || stagesInForce.length > 0 || daysLeft <= (options.warnDays ?? 90);
  const warning = !warn
    ? null
    : closed
      ? `${entry.service} closed on ${entry.closesOn} (${formatDays(-daysLeft)} ago): no customer can create new jobs (${source}). Fix: ${OPEN_WEIGHT_FIX}`
      : `${entry.service} closes to every customer on ${entry.closesOn} (in ${formatDays(daysLeft)})${earlier ? `; ${earlier}` : ""} (${source}). Fix: ${OPEN_WEIGHT_FIX}`;
  return { provider, service: entry.service, closesOn: entry.closesOn, daysLeft, closed, stagesInForce, source: entry.source, unsure: entry.unsure, warning };
}

/** A hosted path (provider + base model): its service closure and its base model's retirement, with the warnings to show. */
export interface HostedPathStatus {
  closure: ClosureStatus | null;
  retirement: RetirementStatus | null;
  warnings: string[];
}

export function hostedPathStatus(provider: string, model: string, options: { today?: Date; warnDays?: number } = {}): HostedPathStatus {
  if (provider !== "openai" && provider !== "bedrock" && provider !== "together") return { closure: null, retirement: null, warnings: [] };
  const closure = closureFor(provider, options);
  const retirement = retirementFor(provider, model, options);
  return { closure, retirement, warnings: [closure?.warning, retirement?.warning].filter((w): w is string => !!w) };
}
