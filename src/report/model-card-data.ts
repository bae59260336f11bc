import { ConflictError, NotFoundError } from "../errors/index.js";
import type { DatasetVersion, Model, Run, Workspace } from "../registry/index.js";

/**
 * Everything a model card states, read from the registry: the training run and its resolved spec, the model
 * and its base, the dataset version with its lineage (hash, split seed), the training curves from the run's
 * metric events, and every succeeded eval run that evaluated this model (a candidate whose adapter or model
 * folder is the model's path), with the other candidates of those runs as the baselines.
 */
export interface CurvePoint {
  step: number;
  value: number;
}

export interface CardEvalCandidate {
  name: string;
  prompt: string;
  isModel: boolean;
  metrics: Record<string, { value: number | null; low: number | null; high: number | null; unit: string }>;
  latencyMs: number | null;
  costUsd: number | null;
}

export interface CardEval {
  runId: string;
  name: string;
  dataset: string;
  split: string;
  examples: number;
  primaryMetric: string;
  candidates: CardEvalCandidate[];
  verdicts: string[];
  createdAt: string;
}

export interface ModelCardData {
  run: Run;
  model: Model;
  base: Model | null;
  version: DatasetVersion;
  lineage: { number: number; transform: string; sha256: string; records: number }[];
  splitSeed: string | number | null;
  splitCounts: Record<string, number> | null;
  hyperparameters: Record<string, unknown>;
  curves: Record<string, CurvePoint[]>;
  result: Record<string, unknown>;
  trainingSeconds: number | null;
  evals: CardEval[];
}

export async function collectModelCard(ws: Workspace, runRef: string): Promise<ModelCardData> {
  const run = await ws.registry.getRun(runRef);
  if (run.kind !== "train") {
    throw new NotFoundError("REPORT_NOT_A_TRAIN_RUN", `run ${run.id} is a ${run.kind} run; model cards describe training runs`, { fix: "pass a training run id (`tunekit runs list --kind train`)" });
  }
  if (run.status !== "succeeded" || !run.modelId || !run.datasetVersionId) {
    throw new ConflictError("REPORT_RUN_HAS_NO_MODEL", `training run ${run.id} is ${run.status} and registered no model`, { fix: "finish the run first (`tunekit runs resume RUN`), then write its card" });
  }
  const model = await ws.registry.getModel(run.modelId);
  const base = model.baseModelId ? await ws.registry.getModel(model.baseModelId) : null;
  const version = await ws.registry.resolveDatasetVersion(run.datasetVersionId);
  const lineage: ModelCardData["lineage"] = [];
  let splitSeed: string | number | null = null;
  let splitCounts: Record<string, number> | null = null;
  for (let v: DatasetVersion | null = version; v; v = v.parentId ? await ws.registry.resolveDatasetVersion(v.parentId) : null) {
    lineage.unshift({ number: v.number, transform: v.transform, sha256: v.sha256, records: v.recordCount });
    if (v.transform === "split" && splitSeed === null) {
      splitSeed = (v.params.seed as string | number | undefined) ?? null;
      const report = v.report as { final?: Record<string, number>; counts?: Record<string, number> } | null;
      splitCounts = report?.final ?? report?.counts ?? null;
    }
  }
  const curves: Record<string, CurvePoint[]> = {};
  for (const name of ["train/loss", "val/loss", "train/lr"]) {
    const events = await ws.registry.listRunEvents(run.id, { type: "metric", name });
    curves[name] = events.filter((e) => e.step !== null && e.value !== null).map((e) => ({ step: e.step as number, value: e.value as number }));
  }
  const { supervisor: _supervisor, ...result } = (run.result ?? {}) as Record<string, unknown>;
  const trainingSeconds = run.startedAt && run.endedAt ? (Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000 : null;
  return {
    run,
    model,
    base,
    version,
    lineage,
    splitSeed,
    splitCounts,
    hyperparameters: run.config,
    curves,
    result,
    trainingSeconds,
    evals: await evalsOf(ws, model),
  };
}

interface EvalRunConfig {
  dataset?: { ref?: string; split?: string; examples?: number };
  candidates?: { name: string; backend?: { modelDir?: string; adapterDir?: string | null; model?: string } }[];
}

interface EvalRunResult {
  primaryMetric: string;
  examples: number;
  verdicts: string[];
  candidates: { name: string; prompt: string; metrics: CardEvalCandidate["metrics"]; latency: { p50Ms: number; meanMs: number } | null; cost: { costPerRequestUsd: number | null } }[];
}

async function evalsOf(ws: Workspace, model: Model): Promise<CardEval[]> {
  const runs = await ws.registry.listRuns({ kind: "eval", status: "succeeded" });
  const out: CardEval[] = [];
  for (const r of runs) {
    const config = r.config as EvalRunConfig;
    const mine = (config.candidates ?? []).filter((c) => model.path !== null && (c.backend?.adapterDir === model.path || (c.backend?.modelDir === model.path && !c.backend?.adapterDir) || c.backend?.model === model.providerModelId));
    if (mine.length === 0 || !r.result) continue;
    const result = r.result as unknown as EvalRunResult;
    const names = new Set(mine.map((c) => c.name));
    out.push({
      runId: r.id,
      name: r.name ?? r.id,
      dataset: config.dataset?.ref ?? "?",
      split: config.dataset?.split ?? "?",
      examples: result.examples,
      primaryMetric: result.primaryMetric,
      verdicts: result.verdicts ?? [],
      createdAt: r.createdAt,
      candidates: result.candidates.map((c) => ({
        name: c.name,
        prompt: c.prompt,
        isModel: names.has(c.name),
        metrics: c.metrics,
        latencyMs: c.latency?.p50Ms ?? null,
        costUsd: c.cost?.costPerRequestUsd ?? null,
      })),
    });
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}
