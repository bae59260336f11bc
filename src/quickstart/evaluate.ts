import { fileURLToPath } from "node:url";
import { runEvalSuite, parseEvalSuite, type EvalSuite, type EvalSummary } from "../eval/index.js";
import type { Workspace } from "../registry/index.js";
import { HOUSE_STYLE_SYSTEM_PROMPT, type QuickstartSizes } from "./options.js";
import type { QuickstartReporter } from "./reporter.js";

/**
 * The quickstart's evaluation: on the held-out test split, the base model zero-shot, the base model with a
 * prompt-engineered baseline (house-style system prompt + few-shot examples from train) and, once trained, the
 * fine-tuned adapter. Primary metric: intent accuracy (the reply takes the right next step, read back from the
 * reply through the intent's key phrase); chrF against the reference reply for the wording. Both with
 * bootstrap 95% CIs and paired comparisons (src/eval). Outputs are cached, so the comparison run re-scores the
 * base candidates without generating again.
 */
export const HOUSE_STYLE_METRIC = fileURLToPath(new URL("../../samples/support/house-style-metric.mjs", import.meta.url));

export const CANDIDATE_NAMES = { zeroShot: "base-zero-shot", prompt: "base-prompt", fineTuned: "fine-tuned" } as const;

export interface EvalTarget {
  dataset: string;
  modelDir: string;
  adapterDir?: string;
  device: string;
  sizes: QuickstartSizes;
  seed: number;
}

export function buildSuite(name: string, target: EvalTarget): EvalSuite {
  const common = { type: "local", modelDir: target.modelDir, concurrency: 1, maxTokens: target.sizes.maxTokens, temperature: 0, promptFormat: "chat" } as const;
  const candidates: Record<string, unknown>[] = [
    { ...common, name: CANDIDATE_NAMES.zeroShot },
    { ...common, name: CANDIDATE_NAMES.prompt, prompt: { system: HOUSE_STYLE_SYSTEM_PROMPT, fewShot: { k: target.sizes.fewShot, seed: target.seed } } },
  ];
  if (target.adapterDir) candidates.push({ ...common, name: CANDIDATE_NAMES.fineTuned, adapterDir: target.adapterDir });
  return parseEvalSuite(
    {
      name,
      dataset: { version: target.dataset, split: "test", trainSplit: "train" },
      candidates,
      metrics: [{ type: "custom", name: "intent_accuracy", module: HOUSE_STYLE_METRIC }, "chrf", "rouge_l"],
      primaryMetric: "intent_accuracy",
      statistics: { resamples: 2000, seed: 20240601, confidence: 0.95 },
    },
    `quickstart suite ${name}`,
  );
}

export async function evaluate(ws: Workspace, name: string, target: EvalTarget, report: QuickstartReporter): Promise<{ runId: string; summary: EvalSummary }> {
  const suite = buildSuite(name, target);
  const bars = new Map<string, ReturnType<QuickstartReporter["progress"]>>();
  const outcome = await runEvalSuite(ws, suite, {
    baseDir: ws.root,
    onProgress: (e) => {
      let bar = bars.get(e.candidate);
      if (!bar) {
        for (const b of bars.values()) b.done();
        bar = report.progress({ total: e.total, label: `eval ${e.candidate}` });
        bars.set(e.candidate, bar);
      }
      bar.tick(e.done, e.failed ? { failed: e.failed } : {});
    },
  });
  for (const b of bars.values()) b.done();
  for (const c of outcome.summary.candidates) {
    const m = c.metrics;
    report.line(`  ${c.name.padEnd(15)} intent accuracy ${pct(m.intent_accuracy?.value)} · chrF ${num(m.chrf?.value)}${c.failures ? ` · ${c.failures} failed` : ""}`);
  }
  return { runId: outcome.runId, summary: outcome.summary };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
const num = (v: number | null | undefined) => (v === null || v === undefined ? "—" : v.toFixed(1));
