import { formatDays, hostedPathStatus, type HostedPathStatus } from "../../cost/index.js";
import type { CandidateSummary } from "../suite/summarize.js";

/**
 * Whether a candidate runs on OpenAI's hosted API (not a vLLM/Ollama/gateway endpoint that speaks its protocol),
 * and if so, what its hosted fine-tuning path looks like: the service closing to new jobs and its base model
 * retiring. Advice that says "fine-tune" on a path that is closing must say so, with the date and the source.
 */
export interface HostedPathNote {
  candidate: string;
  model: string;
  fineTuned: boolean;
  status: HostedPathStatus;
}

function isOpenAiHosted(c: Pick<CandidateSummary, "backend">): boolean {
  if (c.backend.type !== "openai" || typeof c.backend.model !== "string") return false;
  const url = typeof c.backend.baseURL === "string" ? c.backend.baseURL : "https://api.openai.com/v1";
  try {
    return new URL(url).hostname === "api.openai.com";
  } catch {
    return false;
  }
}

export function hostedPathNotes(candidates: readonly CandidateSummary[], isFineTuned: (c: CandidateSummary) => boolean, options: { today?: Date; warnDays?: number }): HostedPathNote[] {
  return candidates.filter(isOpenAiHosted).map((c) => ({
    candidate: c.name,
    model: String(c.backend.model),
    fineTuned: isFineTuned(c),
    status: hostedPathStatus("openai", String(c.backend.model), options),
  })).filter((n) => n.status.warnings.length > 0);
}

const OPEN_WEIGHT_PATH =
  "fine-tune an open-weight model instead (`provider: local` in train.yaml, e.g. a Llama 3 or Qwen3 base) and compare it with `tunekit eval run`; from an existing OpenAI fine-tune, `tunekit migrate` does this in one step (docs/leaving-openai.md)";

/** The reasons advice adds for closing hosted paths: the recommended fine-tune's path, then each hosted fine-tuned candidate. */
export function hostedPathReasons(notes: readonly HostedPathNote[], recommendsFineTune: boolean, baselineName: string | undefined): string[] {
  const reasons: string[] = [];
  const baseline = notes.find((n) => n.candidate === baselineName && !n.fineTuned);
  const closure = baseline?.status.closure;
  if (recommendsFineTune && baseline && closure?.warning) {
    const when = closure.closed ? `closed to new jobs on ${closure.closesOn}` : `closes to every customer on ${closure.closesOn} (in ${formatDays(closure.daysLeft)})`;
    reasons.push(`a fine-tune of ${baseline.model} would run on OpenAI's hosted fine-tuning, which ${when} (source: ${closure.source}): ${OPEN_WEIGHT_PATH}.`);
  }
  for (const n of notes.filter((x) => x.fineTuned)) {
    const r = n.status.retirement;
    const c = n.status.closure;
    const parts = [
      r?.warning ? (r.retired ? `its base model was retired on ${r.retiresOn}` : `its base model retires on ${r.retiresOn} (in ${formatDays(r.daysLeft)})`) : null,
      c?.warning ? (c.closed ? `it can no longer be retrained on OpenAI (job creation closed ${c.closesOn})` : `OpenAI stops taking fine-tuning jobs on ${c.closesOn}, so it cannot be retrained there after that`) : null,
    ].filter(Boolean);
    const source = r?.warning ? r.source : (c?.source ?? "");
    reasons.push(`candidate ${n.candidate} runs ${n.model}: ${parts.join("; ")} (source: ${source}${r?.warning && r.unsure ? `, date unconfirmed: ${r.unsure}` : ""}); move it to an open-weight model with \`tunekit migrate\`.`);
  }
  return reasons;
}
