import { PriceCatalog, closureFor, roundUsd, tokensCostUsd } from "../cost/index.js";
import { ConflictError, ProviderError } from "../errors/index.js";
import { isTerminal, type Run, type RunEventInput, type Workspace } from "../registry/index.js";
import { createBackend, type BackendContext } from "./create-backend.js";
import type { HostedJobSpec, HostedPlan } from "./hosted-plan.js";
import { HostedOptionsSchema } from "./spec.js";
import { isFinalJobStatus, type FineTuneBackend, type JobEvent, type JobState } from "./types.js";

/**
 * Submitting a planned hosted job and following it durably. The provider job id lives in the registry run
 * (result.jobId) the moment the job exists, and the last event seen is stored as a cursor after every poll:
 * a CLI killed at any point is picked up again by `tunekit runs watch RUN` without losing or repeating events.
 */
export interface HostedRunResult extends Record<string, unknown> {
  provider: string;
  jobId: string;
  files: { training: string; validation?: string };
  cursor: string | null;
  providerStatus: string;
}

export interface WatchHooks {
  onState?: (state: JobState) => void;
  onEvent?: (event: JobEvent) => void;
  /** Wait between polls; tests pass 0. */
  intervalMs?: number;
  signal?: AbortSignal;
  /** Stop watching (run stays running) after this many polls. */
  maxPolls?: number;
}

export interface SubmitOptions {
  /** The clock for the closure check (tests fix it). */
  now?: Date;
  /** `--allow-closed-provider`: the organisation still has access (e.g. a negotiated extension); submit anyway. */
  allowClosedProvider?: boolean;
}

/**
 * Refuses a job on a service that no longer takes new jobs, before any upload or registry run: the provider
 * would refuse it anyway, after the data left the machine. Checked at submit time, not from the plan, so a
 * plan made before the cutoff cannot slip through after it.
 */
export function assertProviderOpen(provider: HostedJobSpec["provider"], options: SubmitOptions = {}): void {
  const closure = closureFor(provider, { today: options.now });
  if (!closure?.closed || options.allowClosedProvider) return;
  throw new ProviderError("PROVIDER_SERVICE_CLOSED", `${closure.service} closed to new jobs on ${closure.closesOn} (source: ${closure.source}); nothing was uploaded`, {
    fix: "move to an open-weight model: `tunekit migrate` (from an OpenAI fine-tune) or `provider: local` in train.yaml (docs/leaving-openai.md); if your organisation still has access, pass --allow-closed-provider",
    details: { provider, closesOn: closure.closesOn, source: closure.source },
  });
}

export async function submitHostedRun(ws: Workspace, plan: HostedPlan, ctx: BackendContext = {}, backend?: FineTuneBackend, options: SubmitOptions = {}): Promise<Run> {
  const spec = plan.spec;
  assertProviderOpen(spec.provider, options);
  const b = backend ?? createBackend(spec.provider, spec.hosted, { ...ctx, epochs: spec.epochs, seed: spec.seed });
  // The run config is the spec (env var NAMES only, never key values) plus what the plan decided.
  const run = await ws.registry.createRun({
    kind: "train",
    name: spec.name,
    backend: spec.provider,
    datasetVersionId: plan.version.id,
    config: { spec: spec as unknown as Record<string, unknown>, plan: { target: plan.export.target, tokens: plan.tokens, epochs: plan.epochs, estimate: plan.estimate, warnings: plan.warnings, retirement: plan.retirement, closure: plan.closure, ...(options.allowClosedProvider ? { allowClosedProvider: true } : {}) } },
  });
  await ws.registry.transitionRun(run.id, "running");
  try {
    const submitted = await b.submit({ trainingFile: plan.files.training, validationFile: plan.files.validation, model: spec.model, runId: run.id });
    const result: HostedRunResult = { provider: spec.provider, jobId: submitted.jobId, files: submitted.files, cursor: null, providerStatus: submitted.state.providerStatus };
    await ws.registry.updateRun(run.id, { result });
    await ws.registry.appendRunEvents(run.id, [{ type: "log", name: "submitted", data: { provider: spec.provider, jobId: submitted.jobId, files: submitted.files } }]);
    return ws.registry.getRun(run.id);
  } catch (error) {
    const e = error as { code?: string; message?: string; fix?: string };
    await ws.registry.transitionRun(run.id, "failed", { error: { code: e.code ?? "PROVIDER_REQUEST_FAILED", message: String(e.message ?? error), ...(e.fix ? { fix: e.fix } : {}) } });
    throw error;
  }
}

/** The spec and job id of a hosted run, from the registry. */
export function hostedRunInfo(run: Run): { spec: HostedJobSpec; result: HostedRunResult } {
  const spec = (run.config as { spec?: HostedJobSpec }).spec;
  const result = run.result as HostedRunResult | null;
  if (!spec || !result?.jobId || !["openai", "bedrock", "together"].includes(String(run.backend))) {
    throw new ConflictError("PROVIDER_RUN_NOT_HOSTED", `run ${run.id} is not a submitted hosted fine-tuning job`, {
      fix: "`tunekit runs watch` follows openai/bedrock/together runs; follow local runs with `tunekit runs events RUN`",
    });
  }
  return { spec: { ...spec, hosted: HostedOptionsSchema.parse(spec.hosted ?? {}) }, result };
}

/** Polls until the job is final (or maxPolls / abort), recording events, metrics, checkpoints and the outcome. */
export async function watchHostedRun(ws: Workspace, runId: string, hooks: WatchHooks = {}, ctx: BackendContext = {}, backend?: FineTuneBackend): Promise<Run> {
  let run = await ws.registry.getRun(runId);
  const { spec, result } = hostedRunInfo(run);
  if (isTerminal(run.status)) return run;
  const b = backend ?? createBackend(spec.provider, spec.hosted, { ...ctx, epochs: spec.epochs, seed: spec.seed });
  if (run.status !== "running") run = await ws.registry.transitionRun(runId, "running");
  let cursor = result.cursor;
  for (let poll = 0; ; poll++) {
    if (hooks.signal?.aborted) return ws.registry.getRun(runId);
    const state = await b.status(result.jobId);
    hooks.onState?.(state);
    const events = await b.events(result.jobId, cursor ? { afterId: cursor } : {});
    if (events.length) {
      await ws.registry.appendRunEvents(runId, events.map(toRunEvent));
      events.forEach((e) => hooks.onEvent?.(e));
      cursor = events[events.length - 1].id;
    }
    await ws.registry.updateRun(runId, { result: { ...result, cursor, providerStatus: state.providerStatus } });
    if (isFinalJobStatus(state.status)) return finish(ws, runId, spec, { ...result, cursor }, state, b);
    if (hooks.maxPolls !== undefined && poll + 1 >= hooks.maxPolls) return ws.registry.getRun(runId);
    await sleep(hooks.intervalMs ?? 30_000, hooks.signal);
  }
}

function toRunEvent(e: JobEvent): RunEventInput {
  return {
    type: e.metrics ? "progress" : "log",
    ts: e.createdAt,
    name: e.type,
    ...(e.step !== undefined ? { step: e.step } : {}),
    data: { id: e.id, level: e.level, message: e.message, ...(e.metrics ? { metrics: e.metrics } : {}) },
  };
}

async function finish(ws: Workspace, runId: string, spec: HostedJobSpec, result: HostedRunResult, state: JobState, b: FineTuneBackend): Promise<Run> {
  const record: RunEventInput[] = [];
  if (state.status === "succeeded") {
    for (const m of await b.metrics(state.jobId)) record.push({ type: "metric", step: m.step, name: m.name, value: m.value, ...(m.epoch !== undefined ? { data: { epoch: m.epoch } } : {}) });
    for (const c of await b.checkpoints(state.jobId)) record.push({ type: "checkpoint", step: c.step, name: c.id, data: { modelId: c.modelId, metrics: c.metrics } });
  }
  await ws.registry.appendRunEvents(runId, record);
  const cost = state.billedCostUsd ?? trainingCostFromTokens(ws, spec, state.trainedTokens);
  const outcome = {
    ...result,
    providerStatus: state.providerStatus,
    resultModelId: state.resultModelId,
    hyperparameters: state.hyperparameters,
    trainedTokens: state.trainedTokens,
    billedCostUsd: state.billedCostUsd,
    costBasis: state.billedCostUsd !== null ? "billed by provider" : cost !== null ? "trained tokens × catalog price" : "unknown",
    finishedAt: state.finishedAt,
  };
  const run = await ws.registry.getRun(runId);
  const plan = (run.config as { plan?: { retirement?: unknown } }).plan;
  if (state.status === "succeeded") {
    const model = state.resultModelId
      ? await ws.registry.createModel({ name: `${spec.name ?? "ft"}-${runId}`, kind: "fine_tuned", provider: spec.provider, providerModelId: state.resultModelId, runId, datasetVersionId: run.datasetVersionId ?? undefined, meta: { baseModel: spec.model, retirement: plan?.retirement ?? null } })
      : null;
    if (model) await ws.registry.updateRun(runId, { modelId: model.id });
    return ws.registry.transitionRun(runId, "succeeded", { result: outcome, ...(cost !== null ? { costUsd: cost } : {}) });
  }
  if (state.status === "cancelled") return ws.registry.transitionRun(runId, "cancelled", { result: outcome, ...(cost !== null ? { costUsd: cost } : {}) });
  return ws.registry.transitionRun(runId, "failed", {
    result: outcome,
    error: { code: "PROVIDER_JOB_FAILED", message: `${spec.provider} job ${state.jobId} failed: ${state.error?.message ?? state.providerStatus}`, fix: "read the job's events (`tunekit runs events RUN`), fix the data or settings, and submit again" },
  });
}

function trainingCostFromTokens(ws: Workspace, spec: HostedJobSpec, trainedTokens: number | null): number | null {
  if (trainedTokens === null) return null;
  const method = spec.provider === "openai" ? spec.hosted.openai.method : spec.provider === "together" ? spec.hosted.together.method : "sft";
  const type = spec.provider === "together" ? spec.hosted.together.trainingType : "hosted";
  const price = PriceCatalog.withOverrides(ws.config.cost.prices).trainingPrice(spec.provider, spec.model, { method, type });
  return price ? roundUsd(tokensCostUsd(trainedTokens, price.perMTok)) : null;
}

/** Cancels the provider job, then records the outcome. */
export async function cancelHostedRun(ws: Workspace, runId: string, ctx: BackendContext = {}, backend?: FineTuneBackend): Promise<Run> {
  const run = await ws.registry.getRun(runId);
  const { spec, result } = hostedRunInfo(run);
  const b = backend ?? createBackend(spec.provider, spec.hosted, { ...ctx, epochs: spec.epochs, seed: spec.seed });
  await b.cancel(result.jobId);
  return watchHostedRun(ws, runId, { intervalMs: 0, maxPolls: 5 }, ctx, b);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}
