import { ConfigError, WorkerError as TrainError } from "../../errors/index.js";
import type { Workspace } from "../../registry/index.js";
import { startTrainRun, resolveTrainSpec, loadTrainSpec } from "../../train/index.js";
import { writeEvalReport } from "../report/write-report.js";
import { runEvalSuite } from "../suite/run-suite.js";
import { metricName, type EvalSuite } from "../suite/suite-config.js";
import { fitLearningCurve, type CurvePoint, type LearningCurve } from "./learning-curve.js";
import { subsampleTrainSplit } from "./subsample-version.js";

/**
 * `tunekit eval curve`: for each fraction of the train split, a nested subsample version → a local training
 * run through S1's trainer (startTrainRun) → the suite's first local candidate evaluated with the new
 * adapter. The points and the fitted curve are recorded in a run of kind "curve" (children: the train and
 * eval runs), and the report of the largest run carries the curve.
 */
export interface CurveOptions {
  suite: EvalSuite;
  baseDir: string;
  trainSpecPath: string;
  fractions: readonly number[];
  seed?: number;
  onNote?: (line: string) => void;
}

export interface CurveOutcome {
  runId: string;
  curve: LearningCurve;
  report: string;
}

export async function runLearningCurve(ws: Workspace, options: CurveOptions): Promise<CurveOutcome> {
  const candidate = options.suite.candidates.find((c) => c.type === "local");
  if (!candidate || candidate.type !== "local") {
    throw new ConfigError("EVAL_CURVE_NO_LOCAL_CANDIDATE", "the learning curve trains a local model, but the eval suite has no candidate of type local", {
      fix: "add a candidate { name, type: local, modelDir } — the base model the training spec fine-tunes",
    });
  }
  const spec = loadTrainSpec(options.trainSpecPath);
  const base = await ws.registry.resolveDatasetVersion(options.suite.dataset.version);
  const metric = options.suite.primaryMetric ?? metricName(options.suite.metrics[0]);
  const curveRun = await ws.registry.createRun({ kind: "curve", name: `${options.suite.name} curve`, datasetVersionId: base.id, config: { suite: options.suite, train: spec, fractions: options.fractions } });
  await ws.registry.transitionRun(curveRun.id, "running");
  const points: CurvePoint[] = [];
  let lastEval: string | undefined;
  try {
    for (const fraction of [...options.fractions].sort((a, b) => a - b)) {
      const sub = await subsampleTrainSplit(ws, base, fraction, options.seed ?? 1, options.suite.dataset.trainSplit);
      options.onNote?.(`curve: ${Math.round(fraction * 100)}% → ${sub.kept} of ${sub.trainTotal} train examples (version ${sub.version.datasetName}@${sub.version.number})`);
      const resolved = await resolveTrainSpec(ws, { ...spec, dataset: sub.version.id, name: `${spec.name ?? "curve"}-${Math.round(fraction * 100)}pct` }, options.trainSpecPath);
      const trained = await startTrainRun(ws, resolved, { note: options.onNote, handleSignals: true });
      const adapterDir = trained.result?.adapter_dir ?? null;
      if (trained.run.status !== "succeeded" || !trained.result) {
        throw new TrainError("EVAL_CURVE_TRAIN_FAILED", `training on ${Math.round(fraction * 100)}% of the data ended ${trained.run.status} (run ${trained.run.id})`, { fix: `see tunekit runs show ${trained.run.id}; rerun the curve once it trains` });
      }
      const suite: EvalSuite = {
        ...options.suite,
        name: `${options.suite.name} @${Math.round(fraction * 100)}%`,
        candidates: [{ ...candidate, name: `${candidate.name}-${Math.round(fraction * 100)}pct`, adapterDir: adapterDir ?? undefined, modelDir: adapterDir ? candidate.modelDir : (trained.result.model_dir ?? candidate.modelDir) }],
      };
      const evaluated = await runEvalSuite(ws, suite, { baseDir: options.baseDir });
      lastEval = evaluated.runId;
      const v = evaluated.summary.candidates[0].metrics[metric];
      points.push({ fraction, examples: sub.kept, value: v?.value ?? Number.NaN, low: v?.low ?? null, high: v?.high ?? null, runId: evaluated.runId });
      await ws.registry.appendRunEvents(curveRun.id, [{ type: "metric", name: `curve/${metric}`, step: sub.kept, value: v?.value ?? undefined, data: { trainRun: trained.run.id, evalRun: evaluated.runId } }]);
    }
    const unit = (await ws.registry.getRun(lastEval!)).result as { candidates: { metrics: Record<string, { unit: LearningCurve["unit"] }> }[] };
    const curve: LearningCurve = { metric, unit: unit.candidates[0].metrics[metric].unit, points, fit: null };
    curve.fit = fitLearningCurve(points, curve.unit);
    await ws.registry.transitionRun(curveRun.id, "succeeded", { result: { curve } as unknown as Record<string, unknown> });
    const report = await writeEvalReport(ws, lastEval!, { curve });
    return { runId: curveRun.id, curve, report: report.html };
  } catch (error) {
    await ws.registry.transitionRun(curveRun.id, "failed", { error: { code: (error as { code?: string }).code ?? "EVAL_CURVE_FAILED", message: (error as Error).message } });
    throw error;
  }
}
