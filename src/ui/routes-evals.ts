import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { ConflictError, NotFoundError } from "../errors/index.js";
import { PriceCatalog } from "../cost/index.js";
import { advise, catalogTrainingPrice, profileTrainSplit, type LearningCurve, type EvalSuite, type EvalSummary } from "../eval/index.js";
import type { Run, Workspace } from "../registry/index.js";
import type { EvalAdviceResponse, EvalDetailResponse, EvalExampleRow, EvalExamplesResponse, EvalListResponse } from "./api-types.js";
import { intParam, type Route } from "./http.js";

/** Evaluations: runs with candidates and CIs, per-example rows for the side-by-side viewer, learning curves, advice. */
type EvalResult = EvalSummary & { resultsArtifactId?: string; curve?: LearningCurve };

async function evalRun(ws: Workspace, id: string): Promise<Run & { result: EvalResult }> {
  const run = await ws.registry.getRun(id);
  if (run.kind !== "eval" && run.kind !== "curve") {
    throw new NotFoundError("EVAL_NOT_AN_EVAL_RUN", `run ${id} is a ${run.kind} run, not an eval run`, { fix: "pick a run from the Evaluations page" });
  }
  if (run.status !== "succeeded" || !run.result) {
    throw new ConflictError("EVAL_RUN_NOT_FINISHED", `eval run ${id} is ${run.status}; only a succeeded run has results`, { fix: "wait for it to finish, or rerun it" });
  }
  return run as Run & { result: EvalResult };
}

type ExampleRow = EvalExampleRow;

function rowMatches(row: ExampleRow, search: string | undefined, disagree: boolean, metric: string | undefined): boolean {
  if (search && !JSON.stringify(row).toLowerCase().includes(search.toLowerCase())) return false;
  if (disagree && metric) {
    const values = new Set(Object.values(row.candidates).map((c) => c.scores[metric]));
    if (values.size < 2) return false;
  }
  return true;
}

export const evalRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/api/evals",
    handler: async ({ ws }): Promise<EvalListResponse> => {
      const runs = [...(await ws.registry.listRuns({ kind: "eval" })), ...(await ws.registry.listRuns({ kind: "curve" }))];
      return {
        evals: runs.map((r) => {
          const result = r.result as EvalResult | null;
          return {
            id: r.id, kind: r.kind, name: r.name, status: r.status, createdAt: r.createdAt, costUsd: r.costUsd,
            primaryMetric: result?.primaryMetric ?? null, examples: result?.examples ?? null,
            candidates: result?.candidates?.map((c) => ({ name: c.name, metric: c.metrics[result.primaryMetric] ?? null })) ?? [],
            verdict: result?.verdicts?.[0] ?? null,
          };
        }),
      };
    },
  },
  {
    method: "GET",
    pattern: "/api/evals/:id",
    handler: async ({ ws, params }): Promise<EvalDetailResponse> => {
      const run = await evalRun(ws, params.id);
      const curveRun = (await ws.registry.listRuns({ kind: "curve", status: "succeeded" })).find((r) => (r.result as { curve?: LearningCurve } | null)?.curve);
      const curve = run.result.curve ?? (curveRun?.result as { curve?: LearningCurve } | undefined)?.curve ?? null;
      const { resultsArtifactId: _artifact, curve: _curve, ...summary } = run.result;
      return { run: { ...run, result: undefined }, summary, curve, curveRunId: run.result.curve ? run.id : (curveRun?.id ?? null) };
    },
  },
  {
    method: "GET",
    pattern: "/api/evals/:id/examples",
    handler: async ({ ws, params, query, signal }): Promise<EvalExamplesResponse> => {
      const run = await evalRun(ws, params.id);
      if (!run.result.resultsArtifactId) throw new NotFoundError("EVAL_NO_EXAMPLES", `eval run ${run.id} has no per-example results`, { fix: "rerun the eval with a current tunekit" });
      const artifact = await ws.artifacts.getArtifact(run.result.resultsArtifactId);
      const offset = intParam(query, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
      const limit = intParam(query, "limit", 20, 1, 200);
      const search = query.get("q")?.trim() || undefined;
      const disagree = query.get("disagree") === "1";
      const metric = query.get("metric") || run.result.primaryMetric;
      const rows: ExampleRow[] = [];
      let total = 0;
      let matched = 0;
      const lines = createInterface({ input: createReadStream(ws.artifacts.absolutePath(artifact)), crlfDelay: Infinity });
      try {
        for await (const line of lines) {
          if (signal.aborted) break;
          if (!line.trim()) continue;
          total++;
          const row = JSON.parse(line) as ExampleRow;
          if (!rowMatches(row, search, disagree, metric)) continue;
          if (matched >= offset && rows.length < limit) rows.push(row);
          matched++;
        }
      } finally {
        lines.close();
      }
      return { total, matched, offset, limit, metric, rows };
    },
  },
  {
    method: "GET",
    pattern: "/api/evals/:id/advice",
    handler: async ({ ws, params, query }): Promise<EvalAdviceResponse> => {
      const run = await evalRun(ws, params.id);
      const suite = (run.config as { suite?: EvalSuite }).suite;
      const ref = run.datasetVersionId ?? suite?.dataset.version;
      const profile = ref ? await profileTrainSplit(ws, ref, suite?.dataset.trainSplit) : { trainExamples: 0, labelCounts: undefined };
      const target = query.get("target");
      // No assumed price: the catalog's training price for the best baseline's model, else "unavailable".
      const price = catalogTrainingPrice(run.result, PriceCatalog.withOverrides(ws.config.cost.prices));
      return {
        runId: run.id,
        ...advise({
          summary: run.result,
          trainExamples: profile.trainExamples,
          labelCounts: profile.labelCounts,
          target: target ? Number(target) : undefined,
          monthlyVolume: suite?.volume?.requestsPerMonth,
          trainPricePerMTok: price?.perMTok,
          trainPriceSource: price?.source,
        }),
      };
    },
  },
];
