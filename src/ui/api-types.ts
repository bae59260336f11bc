/**
 * The dashboard's JSON API, typed once. The route handlers (src/ui/routes-*.ts) are declared to return these
 * types and the front end (web/src) imports them with `import type`, so `npm run typecheck` fails when the
 * server and the pages drift apart. Type-only: nothing here exists at run time, and the web bundle pulls in
 * no server code.
 */
import type { Advice, LearningCurve, EvalSummary, MetricValue } from "../eval/index.js";
import type { CandidateEstimate, EstimateInput } from "../cost/index.js";
import type { VersionDiff } from "../data/index.js";
import type { ExperimentAnalysis, ExperimentState, ExperimentStore, Alert, VariantWindow } from "../gateway/index.js";
import type { Dataset, DatasetVersion, Model, Run, RunEvent, RunKind, RunStatus } from "../registry/index.js";
import type { PreviewExample } from "../tokenize/index.js";
import type { BrowsePage } from "./record-browser.js";
import type { RunComparison } from "./run-compare.js";
import type { LineageGraph, PiiView, VersionStatsView } from "./version-insights.js";

export type { Run, RunEvent, RunKind, RunStatus, EvalSummary, MetricValue, LearningCurve, Advice, RunComparison };
export type { Dataset, DatasetVersion, LineageGraph, PiiView, VersionStatsView, PreviewExample, BrowsePage };
export type { ExperimentAnalysis, ExperimentState, VariantWindow, Alert, CandidateEstimate, EstimateInput };
export type { MetricSummary } from "./run-compare.js";
export type { CandidateSummary, ComparisonResult } from "../eval/index.js";

/** The error body every failing request answers with (src/errors' boundary). */
export interface ApiErrorBody {
  error: { code: string; message: string; fix?: string };
}

// Runs ---------------------------------------------------------------------------------------------------

/** GET /api/runs */
export interface RunListResponse {
  runs: Run[];
}

/** GET /api/runs/:id */
export interface RunDetailResponse {
  run: Run;
  dataset: { id: string; ref: string; records: number } | null;
  checkpoints: RunEvent[];
  logs: RunEvent[];
  statuses: RunEvent[];
  models: Model[];
  children: { id: string; kind: RunKind; status: RunStatus; name: string | null }[];
}

/** GET /api/runs/:id/events */
export interface RunEventsResponse {
  runId: string;
  status: RunStatus;
  events: RunEvent[];
  lastId: number;
}

/** GET /api/runs/:id/stream: the `data:` of an `events` message is RunEvent[], of a `heartbeat` this. */
export interface RunStreamHeartbeat {
  status: RunStatus;
  terminal: boolean;
}

/** GET /api/compare?a=RUN&b=RUN */
export type CompareResponse = RunComparison;

/** POST /api/runs and POST /api/runs/:id/resume: the run once its supervisor registered it (null: not yet). */
export interface LaunchResponse {
  run: Run | null;
  pid: number;
  log: string;
}

/** POST /api/runs/:id/cancel: what `tunekit runs cancel` did. */
export interface CancelResponse {
  run: Run;
  action: "hosted-cancelled" | "paused" | "cancelled";
}

// Evaluations --------------------------------------------------------------------------------------------

export interface EvalListItem {
  id: string;
  kind: RunKind;
  name: string | null;
  status: RunStatus;
  createdAt: string;
  costUsd: number | null;
  primaryMetric: string | null;
  examples: number | null;
  candidates: { name: string; metric: MetricValue | null }[];
  verdict: string | null;
}

/** GET /api/evals */
export interface EvalListResponse {
  evals: EvalListItem[];
}

/** GET /api/evals/:id */
export interface EvalDetailResponse {
  run: Omit<Run, "result"> & { result: undefined };
  summary: EvalSummary;
  curve: LearningCurve | null;
  curveRunId: string | null;
}

export interface EvalExampleRow {
  id: string;
  input: unknown;
  reference: unknown;
  candidates: Record<string, { output: string | null; scores: Record<string, number | null>; latencyMs?: number; error?: unknown }>;
}

/** GET /api/evals/:id/examples */
export interface EvalExamplesResponse {
  total: number;
  matched: number;
  offset: number;
  limit: number;
  metric: string;
  rows: EvalExampleRow[];
}

/** GET /api/evals/:id/advice */
export type EvalAdviceResponse = Advice & { runId: string };

// Datasets -----------------------------------------------------------------------------------------------

export interface DatasetListItem extends Dataset {
  versions: number;
  latest: { id: string; number: number; recordCount: number; createdAt: string } | null;
}

/** GET /api/datasets */
export interface DatasetListResponse {
  datasets: DatasetListItem[];
}

/** GET /api/datasets/:name */
export interface DatasetDetailResponse {
  dataset: Dataset;
  versions: DatasetVersion[];
  lineage: LineageGraph;
}

/** GET /api/versions/:ref */
export interface VersionResponse {
  version: DatasetVersion;
}

/** GET /api/versions/:ref/stats */
export interface VersionStatsResponse {
  stats: VersionStatsView;
}

/** GET /api/versions/:ref/pii */
export type VersionPiiResponse = PiiView;

/** GET /api/versions/:ref/records */
export type RecordPageResponse = BrowsePage & { version: { id: string; ref: string } };

/** GET /api/versions/:ref/diff/:other */
export interface VersionDiffResponse {
  diff: VersionDiff;
}

/** POST /api/versions/:ref/preview */
export interface PreviewResponse {
  modelDir: string;
  examples: PreviewExample[];
}

// Experiments and monitoring -----------------------------------------------------------------------------

export type ExperimentView = ReturnType<ExperimentStore["list"]>[number] & {
  requests: number;
  analysis: ExperimentAnalysis;
  history: ReturnType<ExperimentStore["history"]>;
};

/** GET /api/experiments */
export interface ExperimentListResponse {
  experiments: ExperimentView[];
}

/** POST /api/experiments/:name/:action */
export interface ExperimentActionResponse {
  experiment: ExperimentState;
}

/** GET /api/monitoring */
export interface MonitoringResponse {
  since: number;
  bucketMs: number;
  requests: number;
  windows: VariantWindow[];
  overall: VariantWindow[];
  alerts: Alert[];
}

// Cost ---------------------------------------------------------------------------------------------------

/** GET /api/cost/catalog */
export interface CostCatalogResponse {
  models: { provider: string; model: string; trainable: boolean; source: { url: string; checkedOn: string } }[];
  defaults: { gpuHourlyRate: number; gpuCount: number; prepHours: number; prepRate: number };
}

/** POST /api/cost/estimate */
export interface CostEstimateResponse {
  input: EstimateInput;
  estimates: CandidateEstimate[];
}
