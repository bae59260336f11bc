/**
 * Base-model retirement dates where known, as data. A fine-tuned model dies with its base model on most
 * providers, so a run on a base that retires soon deserves a warning before money is spent.
 */
export interface RetirementEntry {
  provider: "openai" | "bedrock" | "together";
  model: string;
  /** YYYY-MM-DD: the day requests stop working. */
  retiresOn: string;
  source: string;
  checkedOn: string;
  unsure?: string;
}

export const RETIREMENTS: RetirementEntry[] = [
  {
    provider: "bedrock",
    model: "anthropic.claude-3-haiku-20240307-v1:0",
    retiresOn: "2026-04-19",
    source: "https://docs.anthropic.com/en/docs/about-claude/model-deprecations",
    checkedOn: "2026-11-28",
    unsure: "the date is Anthropic's API retirement (reported 2026-04-19/20); Bedrock's own EOL date may differ — see https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html",
  },
  {
    provider: "openai",
    model: "gpt-3.5-turbo-0613",
    retiresOn: "2024-09-13",
    source: "https://platform.openai.com/docs/deprecations",
    checkedOn: "2026-11-28",
  },
];

export interface RetirementStatus {
  model: string;
  retiresOn: string;
  daysLeft: number;
  retired: boolean;
  source: string;
  unsure?: string;
  warning: string | null;
}

/** The retirement status of a base model, with a warning when it retires within `warnDays` (or already did). */
export function retirementFor(
  provider: RetirementEntry["provider"],
  model: string,
  options: { today?: Date; warnDays?: number; table?: readonly RetirementEntry[] } = {},
): RetirementStatus | null {
  const table = options.table ?? RETIREMENTS;
  const bare = model.replace(/:\d+k$/, "");
  const entry = table.find((r) => r.provider === provider && (r.model === model || r.model === bare));
  if (!entry) return null;
  const today = options.today ?? new Date();
  const day = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const daysLeft = Math.round((Date.parse(`${entry.retiresOn}T00:00:00Z`) - day) / 86_400_000);
  const warnDays = options.warnDays ?? 90;
  const retired = daysLeft <= 0;
  const warning = retired
    ? `base model ${model} was retired on ${entry.retiresOn}; a fine-tune of it may fail or stop serving`
    : daysLeft <= warnDays
      ? `base model ${model} retires on ${entry.retiresOn} (in ${daysLeft} days); the fine-tuned model will likely stop working then`
      : null;
  return { model, retiresOn: entry.retiresOn, daysLeft, retired, source: entry.source, unsure: entry.unsure, warning };
}
