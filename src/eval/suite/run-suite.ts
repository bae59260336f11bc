import type { Workspace } from "../../registry/index.js";
import { ConfigError, isTunekitError } from "../../errors/index.js";
import type { CandidateBackend } from "../candidates/candidate.js";
import { mapConcurrent } from "../candidates/concurrency.js";
import { RequestCache } from "../candidates/request-cache.js";
import { runCandidate } from "../candidates/run-candidate.js";
import { createJudgeMetric } from "../judge/llm-judge.js";
import type { ExampleScore, Metric } from "../metrics/metric.js";
import { Bm25Index } from "../prompts/bm25-index.js";
import { checkTemplate, strategyName } from "../prompts/prompt-strategy.js";
import { buildBackend, buildJudgeBackend, evalCacheDir, resolveCandidateModels } from "./build-candidates.js";
import { buildMetrics, inferLabels } from "./build-metrics.js";
import { loadDocuments } from "./load-documents.js";
import { loadEvalData } from "./load-examples.js";
import { metricName, type EvalSuite } from "./suite-config.js";
import { summarizeEval, type EvalSummary, type ScoredCandidate } from "./summarize.js";

/**
 * Runs an eval suite end to end and records it: an eval run in the registry whose config holds the exact
 * candidates, prompts, dataset version and metric versions; per-example results as a JSONL artifact; the
 * summary in run.result. Candidates run one after another, each under its own concurrency limit; a failed
 * request is an empty answer for scoring and is listed with its error. Finished requests are cached on disk
 * so rerunning an interrupted eval calls nothing twice.
 */
export interface RunSuiteOptions {
  baseDir: string;
  signal?: AbortSignal;
  onProgress?: (event: { candidate: string; done: number; total: number; failed: number }) => void;
  /** Test seam: replaces the backend built from a candidate spec. */
  backends?: Record<string, CandidateBackend>;
}

export interface SuiteOutcome {
  runId: string;
  summary: EvalSummary;
  resultsArtifactId: string;
}

export async function runEvalSuite(ws: Workspace, suite: EvalSuite, options: RunSuiteOptions): Promise<SuiteOutcome> {
  suite.candidates.forEach((c, i) => c.prompt.template && checkTemplate(c.prompt.template, `candidates[${i}].prompt.template`));
  const data = await loadEvalData(ws, suite.dataset, { checkLeakage: suite.candidates.some((c) => c.prompt.fewShot) });
  const labels = suite.classification.labels ?? inferLabels(data.train, data.test);
  const constrained = suite.candidates.filter((c) => c.constrain === "labels").map((c) => c.name);
  if (constrained.length && labels.length === 0) {
    throw new ConfigError("EVAL_CONSTRAIN_NO_LABELS", `candidates ${constrained.join(", ")} use constrain: labels, but there is no label set: classification.labels is not set and the dataset's references are empty`, {
      fix: "list the labels under classification.labels in eval.yaml, or drop constrain from those candidates",
    });
  }
  const metrics: Metric[] = await buildMetrics(suite.metrics, { labels, match: suite.classification.match, baseDir: options.baseDir });
  const cache = new RequestCache(evalCacheDir(ws.stateDir));
  if (suite.judge) {
    const { mode, rubric, repeats, baseline, temperature } = suite.judge;
    metrics.push(createJudgeMetric({ mode, rubric, repeats, baseline, temperature }, buildJudgeBackend(suite.judge, cache)));
  }
  const primaryMetric = suite.primaryMetric ?? metricName(suite.metrics[0]);
  const passages = suite.retrieval ? loadDocuments(suite.retrieval.documents, options.baseDir, suite.retrieval.passageWords) : [];
  const index = passages.length ? new Bm25Index(passages) : undefined;
  const candidates = await resolveCandidateModels(suite.candidates, options.baseDir);
  const backends = candidates.map((c) => options.backends?.[c.name] ?? buildBackend(c, { cache, baseDir: options.baseDir, python: ws.config.worker.python, device: ws.config.worker.device }));

  const run = await ws.registry.createRun({
    kind: "eval",
    name: suite.name,
    datasetVersionId: data.version.id,
    config: {
      suite,
      // dataset: where the test examples came from (the held-out dataset when set); fewShot: the few-shot pool.
      // The run's datasetVersionId stays the trained dataset (dataset.version), which `advise` profiles.
      dataset: data.testSource,
      fewShot: suite.candidates.some((c) => c.prompt.fewShot) ? data.fewShotSource : undefined,
      candidates: suite.candidates.map((c, i) => ({ name: c.name, backend: backends[i].describe(), prompt: strategyName(c.prompt), promptSpec: c.prompt, constrain: c.constrain ?? null })),
      metrics: metrics.map((m) => ({ name: m.name, version: m.version, unit: m.unit })),
      // A copy: the same array as suite.classification.labels would be stored as "[Circular]" (repeated reference).
      labels: metrics.some((m) => m.name === "accuracy" || m.name === "macro_f1") || suite.candidates.some((c) => c.constrain) ? [...labels] : undefined,
      retrieval: index ? { passages: index.size } : undefined,
    },
  });
  await ws.registry.transitionRun(run.id, "running");
  try {
    const scored: ScoredCandidate[] = [];
    for (const [ci, spec] of suite.candidates.entries()) {
      let done = 0;
      let failed = 0;
      const outputs = await runCandidate({
        backend: backends[ci],
        prompt: spec.prompt,
        examples: data.test,
        sources: { train: data.train, index },
        concurrency: spec.concurrency,
        maxTokens: spec.maxTokens,
        temperature: spec.temperature,
        seed: spec.seed,
        allowed: spec.constrain === "labels" ? labels : undefined,
        signal: options.signal,
        onOutput: (o) => {
          done += 1;
          if (o.error) failed += 1;
          options.onProgress?.({ candidate: spec.name, done, total: data.test.length, failed });
        },
      });
      scored.push({ name: spec.name, backend: backends[ci].describe(), prompt: strategyName(spec.prompt), fineTuned: spec.fineTuned, pricing: spec.pricing ?? null, outputs, scores: {} });
      await ws.registry.appendRunEvents(run.id, [{ type: "log", name: "candidate_done", data: { candidate: spec.name, examples: outputs.length, failures: failed } }]);
    }
    for (const c of scored) {
      for (const m of metrics) {
        const concurrency = m.name.startsWith("judge") ? (suite.judge?.concurrency ?? 4) : 16;
        c.scores[m.name] = await mapConcurrent(data.test, concurrency, async (example, i): Promise<ExampleScore> => {
          const peers = Object.fromEntries(scored.filter((p) => p !== c).map((p) => [p.name, p.outputs[i].output]));
          try {
            return await m.score({ example, output: c.outputs[i].output ?? "", peers });
          } catch (error) {
            return { value: null, detail: { error: isTunekitError(error) ? `${error.code}: ${error.message}` : (error as Error).message } };
          }
        });
      }
    }
    const summary = summarizeEval(scored, metrics, {
      primaryMetric,
      monthlyVolume: suite.volume?.requestsPerMonth ?? null,
      resamples: suite.statistics.resamples,
      seed: suite.statistics.seed,
      confidence: suite.statistics.confidence,
    });
    const writer = await ws.artifacts.createWriter({ kind: "eval-results", ext: "jsonl", runId: run.id, meta: { suite: suite.name } });
    let artifactId: string;
    try {
      for (const [i, example] of data.test.entries()) {
        const row = {
          id: example.id,
          input: example.input,
          reference: example.reference,
          candidates: Object.fromEntries(
            scored.map((c) => [
              c.name,
              { ...c.outputs[i], scores: Object.fromEntries(metrics.map((m) => [m.name, c.scores[m.name][i].value])), details: Object.fromEntries(metrics.filter((m) => c.scores[m.name][i].detail).map((m) => [m.name, c.scores[m.name][i].detail])) },
            ]),
          ),
        };
        await writer.write(`${JSON.stringify(row)}\n`);
      }
      artifactId = (await writer.commit()).id;
    } finally {
      await writer.abort();
    }
    const totalCost = summary.candidates.reduce((s, c) => s + (c.cost.totalCostUsd ?? 0), 0);
    await ws.registry.appendRunEvents(
      run.id,
      summary.candidates.flatMap((c) => Object.entries(c.metrics).filter(([, v]) => v.value !== null).map(([name, v]) => ({ type: "metric" as const, name: `${c.name}/${name}`, value: v.value as number }))),
    );
    await ws.registry.updateRun(run.id, { costUsd: totalCost });
    await ws.registry.transitionRun(run.id, "succeeded", { result: { ...summary, resultsArtifactId: artifactId } as unknown as Record<string, unknown> });
    return { runId: run.id, summary, resultsArtifactId: artifactId };
  } catch (error) {
    const interrupted = options.signal?.aborted === true;
    const e = isTunekitError(error) ? { code: error.code, message: error.message, fix: error.fix } : { code: "EVAL_FAILED", message: (error as Error).message };
    await ws.registry.transitionRun(run.id, interrupted ? "interrupted" : "failed", { error: e });
    throw error;
  } finally {
    await Promise.all(backends.map((b) => b.close?.()));
  }
}
