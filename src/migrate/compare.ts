import { nonInferiority, parseEvalSuite, runEvalSuite, type EvalSummary, type NonInferiorityVerdict } from "../eval/index.js";
import { ConflictError } from "../errors/index.js";
import type { Workspace } from "../registry/index.js";

/**
 * Old vs new on the held-out test split, in one eval run so the comparison is paired (same examples): the
 * hosted fine-tune as an OpenAI-compatible candidate, the replacement as a local candidate (base + adapter).
 * token_f1 is the primary metric (a fraction, so the margin reads as points), chrF for the wording; bootstrap
 * CIs and the non-inferiority verdict of new against old.
 */
export interface CompareInput {
  name: string;
  dataset: string;
  old: { name: string; model: string; baseURL?: string; apiKeyEnv: string };
  replacement: { name: string; modelDir: string; adapterDir: string };
  margin: number;
  maxTokens: number;
  metric?: "token_f1" | "chrf" | "rouge_l" | "exact_match" | "normalized_match";
  resamples?: number;
}

export interface CompareOutcome {
  evalRunId: string;
  summary: EvalSummary;
  verdict: NonInferiorityVerdict;
}

export async function compareOldNew(ws: Workspace, input: CompareInput): Promise<CompareOutcome> {
  const primary = input.metric ?? "token_f1";
  const common = { maxTokens: input.maxTokens, temperature: 0 };
  const suite = parseEvalSuite(
    {
      name: input.name,
      dataset: { version: input.dataset, split: "test", trainSplit: "train" },
      candidates: [
        { ...common, name: input.old.name, type: "openai", model: input.old.model, ...(input.old.baseURL ? { baseURL: input.old.baseURL } : {}), apiKeyEnv: input.old.apiKeyEnv, concurrency: 4, fineTuned: true },
        { ...common, name: input.replacement.name, type: "local", modelDir: input.replacement.modelDir, adapterDir: input.replacement.adapterDir, concurrency: 1, fineTuned: true },
      ],
      metrics: [...new Set([primary, "token_f1", "chrf"])],
      primaryMetric: primary,
      statistics: { resamples: input.resamples ?? 2000, seed: 20240601, confidence: 0.95 },
    },
    `migration eval ${input.name}`,
  );
  const outcome = await runEvalSuite(ws, suite, { baseDir: ws.root });
  const comparison = outcome.summary.comparisons.find((c) => c.metric === primary);
  if (!comparison) {
    const failures = outcome.summary.candidates.map((c) => `${c.name} ${c.failures}/${c.examples} failed`).join(", ");
    throw new ConflictError("MIGRATE_NO_COMPARISON", `eval run ${outcome.runId} could not compare old and new on ${primary} (fewer than 2 examples answered by both: ${failures})`, {
      fix: "check that the hosted model still answers (its id, the API key) and that the test split has at least 2 records; then run tunekit migrate again",
    });
  }
  return { evalRunId: outcome.runId, summary: outcome.summary, verdict: nonInferiority(comparison, { candidate: input.replacement.name, reference: input.old.name, margin: input.margin }) };
}
