/**
 * Base-model retirement dates where known, as data. A fine-tuned model dies with its base model on most
 * providers, so a run on a base that retires soon deserves a warning before money is spent. Entries name the
 * dated snapshot the catalog uses; `aliases` are the undated names that point at it, and a fine-tune
 * `ft:<snapshot>:…` matches its base.
 */
export interface RetirementEntry {
  provider: "openai" | "bedrock" | "together";
  model: string;
  aliases?: readonly string[];
  /** YYYY-MM-DD: the day requests stop working. */
  retiresOn: string;
  source: string;
  checkedOn: string;
  unsure?: string;
}

const OPENAI_DEPRECATIONS = "https://platform.openai.com/docs/deprecations";
// Issue #18 names 2027-01-14 for these four families and their fine-tunes; the deprecation-page snapshots we
// could read (mirrors of deprecations.md up to 2026-05) do not list that date yet, so it stays flagged.
const WIND_DOWN_UNSURE = "2027-01-14 is the date issue #18 quotes from OpenAI's deprecations page; not confirmed from here (the page copies we could read predate it) — check the page";

function windDown(model: string, alias: string): RetirementEntry {
  return { provider: "openai", model, aliases: [alias], retiresOn: "2027-01-14", source: OPENAI_DEPRECATIONS, checkedOn: "2026-12-03", unsure: WIND_DOWN_UNSURE };
}

export const RETIREMENTS: RetirementEntry[] = [
  {
    provider: "bedrock",
    model: "anthropic.claude-3-haiku-20240307-v1:0",
    aliases: ["claude-3-haiku", "claude-3-haiku-20240307"],
    retiresOn: "2026-04-19",
    source: "https://docs.anthropic.com/en/docs/about-claude/model-deprecations",
    checkedOn: "2026-12-03",
    unsure: "the date is Anthropic's API retirement (reported 2026-04-19/20); Bedrock's own EOL date for customization may differ and could not be read from its lifecycle table — see https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html",
  },
  windDown("gpt-4o-2024-08-06", "gpt-4o"),
  windDown("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
  windDown("gpt-4.1-2025-04-14", "gpt-4.1"),
  windDown("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
  {
    provider: "openai",
    model: "gpt-4.1-nano-2025-04-14",
    aliases: ["gpt-4.1-nano"],
    retiresOn: "2026-10-23",
    source: OPENAI_DEPRECATIONS,
    checkedOn: "2026-12-03",
    unsure: "reported by a news article quoting the deprecations page (https://aihola.com/article/openai-ends-fine-tuning-2027); not seen on the page itself",
  },
  {
    provider: "openai",
    model: "gpt-3.5-turbo-0125",
    aliases: ["gpt-3.5-turbo"],
    retiresOn: "2026-10-23",
    source: OPENAI_DEPRECATIONS,
    checkedOn: "2026-12-03",
  },
  {
    provider: "openai",
    model: "gpt-3.5-turbo-0613",
    retiresOn: "2024-09-13",
    source: OPENAI_DEPRECATIONS,
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

/** The base model id of a model name: `ft:<base>:org:suffix:id` → `<base>`; Bedrock's `:200k` context suffix dropped. */
export function baseModelOf(model: string): string {
  return model.startsWith("ft:") ? model.slice(3).split(":")[0]! : model;
}

/** Whole days from `today` (UTC day) to a YYYY-MM-DD date; negative once the date has passed. */
export function daysUntil(date: string, today: Date): number {
  const day = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  return Math.round((Date.parse(`${date}T00:00:00Z`) - day) / 86_400_000);
}

/** "1 day", "34 days". */
export function formatDays(n: number): string {
  return `${n} ${Math.abs(n) === 1 ? "day" : "days"}`;
}

/** What to do about a closing hosted path: named once so every warning gives the same fix. */
export const OPEN_WEIGHT_FIX = "move to an open-weight model you control: `tunekit migrate` (from an OpenAI fine-tune) or train one locally (`provider: local` in train.yaml); see docs/leaving-openai.md";

export function findRetirement(provider: RetirementEntry["provider"], model: string, table: readonly RetirementEntry[] = RETIREMENTS): RetirementEntry | undefined {
  const base = baseModelOf(model);
  const bare = base.replace(/:\d+k$/, "");
  return table.find((r) => r.provider === provider && [model, base, bare].some((m) => r.model === m || (r.aliases ?? []).includes(m)));
}

/** The retirement status of a base model (or a fine-tune of it), with a warning when it retires within `warnDays` (or already did). */
export function retirementFor(
  provider: RetirementEntry["provider"],
  model: string,
  options: { today?: Date; warnDays?: number; table?: readonly RetirementEntry[] } = {},
): RetirementStatus | null {
  const entry = findRetirement(provider, model, options.table);
  if (!entry) return null;
  const daysLeft = daysUntil(entry.retiresOn, options.today ?? new Date());
  const warnDays = options.warnDays ?? 90;
  const retired = daysLeft <= 0;
  const source = `source: ${entry.source}${entry.unsure ? `, unconfirmed: ${entry.unsure}` : ""}`;
  const warning = retired
    ? `base model ${model} was retired on ${entry.retiresOn}; a fine-tune of it may fail or stop serving (${source}). Fix: ${OPEN_WEIGHT_FIX}`
    : daysLeft <= warnDays
      ? `base model ${model} retires on ${entry.retiresOn} (in ${formatDays(daysLeft)}); the fine-tuned model will likely stop working then (${source}). Fix: ${OPEN_WEIGHT_FIX}`
      : null;
  return { model, retiresOn: entry.retiresOn, daysLeft, retired, source: entry.source, unsure: entry.unsure, warning };
}
