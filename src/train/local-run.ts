import { existsSync, readdirSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { ConflictError, UsageError, isTunekitError, type TunekitError } from "../errors/index.js";
import { RESUMABLE_STATUSES, currentOwner, ownerState, type Model, type Run, type RunOwner, type RunStatus, type Workspace } from "../registry/index.js";
import { EventRecorder } from "./event-recorder.js";
import { registerFineTunedModel } from "./register-model.js";
import { compileRunData } from "./run-data.js";
import { parseTrainSpec } from "./spec.js";
import { resolveTrainSpec, type ResolvedTrainSpec } from "./spec-check.js";
import { toWorkerTrainParams } from "./train-params.js";
import { startWorker, DistributedTrain, findPython, type WorkerClient, type ProgressEvent, type TrainResult, type WorkerEvent } from "../runtime/index.js";

export interface TrainRunHooks {
  /** Called once the run exists (before compiling), e.g. to print its id. */
  onRun?(run: Run, paths: RunPaths): void;
  onProgress?(event: ProgressEvent): void;
  onEvent?(event: WorkerEvent): void;
  /** Human notes (compiling, resuming, stopping). */
  note?(line: string): void;
  /** Install SIGINT handling (default true): Ctrl-C → checkpoint then stop; twice → stop now. */
  handleSignals?: boolean;
  /** Aborting it stops the run as a first Ctrl-C does (checkpoint, then stop): for supervisors that are servers. */
  signal?: AbortSignal;
}

export interface TrainRunOutcome {
  run: Run;
  model: Model | null;
  result: TrainResult | null;
}

export interface RunPaths {
  runDir: string;
  dataDir: string;
  outputDir: string;
}

export function runPaths(ws: Pick<Workspace, "stateDir" | "root">, runId: string, output?: string): RunPaths {
  const runDir = join(ws.stateDir, "runs", runId);
  const outputDir = output ? (isAbsolute(output) ? output : resolve(ws.root, output)) : join(runDir, "output");
  return { runDir, dataDir: join(runDir, "data"), outputDir };
}

/** A new local training run: registry run (kind train) → shards → worker → events → model. */
export async function startTrainRun(ws: Workspace, resolved: ResolvedTrainSpec, hooks: TrainRunHooks = {}): Promise<TrainRunOutcome> {
  // A Hub model is recorded pinned (org/name@commit): the lineage names the exact weights, and a resume
  // resolves the same snapshot from the cache even after the branch moved.
  const model = resolved.modelSource ? `${resolved.modelSource.repo}@${resolved.modelSource.commit}` : resolved.modelDir;
  const config = { ...resolved.spec, model };
  const run = await ws.registry.createRun({
    kind: "train",
    name: resolved.spec.name,
    config,
    backend: "local",
    datasetVersionId: resolved.version.id,
  });
  return executeRun(ws, run, resolved, false, hooks);
}

/**
 * Starts a run that was created `pending` earlier (a job queued by the gateway's fine-tuning API): its stored
 * config is parsed and resolved again, so a queued job whose model or data went away fails before training.
 */
export async function startQueuedRun(ws: Workspace, runId: string, hooks: TrainRunHooks = {}): Promise<TrainRunOutcome> {
  const run = await ws.registry.getRun(runId);
  if (run.kind !== "train" || run.backend !== "local" || run.status !== "pending") {
    throw new ConflictError("TRAIN_NOT_QUEUED", `run ${runId} is ${run.status}: a ${run.kind} run on ${run.backend ?? "no backend"}; only pending local training runs start`, {
      fix: "resume an interrupted run with `tunekit runs resume RUN`, or start a new one with `tunekit train`",
    });
  }
  const resolved = await resolveTrainSpec(ws, parseTrainSpec(run.config, `run ${runId} config`), `run ${runId} config`);
  return executeRun(ws, run, resolved, false, hooks);
}

/** Continues an interrupted, failed or orphaned (supervisor killed) run from its newest checkpoint. */
export async function resumeRun(ws: Workspace, runId: string, hooks: TrainRunHooks = {}): Promise<TrainRunOutcome> {
  const run = await ws.registry.getRun(runId);
  if (run.kind !== "train" || run.backend !== "local") {
    throw new UsageError("TRAIN_NOT_RESUMABLE", `run ${runId} is a ${run.kind} run on ${run.backend ?? "no backend"}; only local training runs resume`, {
      fix: "pass the id of a local training run (`tunekit runs list --kind train`)",
    });
  }
  // getRun already turned a running run whose owner is provably dead into `interrupted`.
  if (run.status === "running") assertSupervisorGone(run);
  else if (!RESUMABLE_STATUSES.includes(run.status)) {
    throw new ConflictError("TRAIN_NOT_RESUMABLE", `run ${runId} is ${run.status}; only interrupted, paused or failed runs resume`, {
      fix: run.status === "succeeded" ? "start a new run to train further" : "start a new run with `tunekit train`",
    });
  }
  const spec = parseTrainSpec(run.config, `run ${runId} config`);
  const resolved = await resolveTrainSpec(ws, spec, `run ${runId} config`);
  if (resolved.version.id !== run.datasetVersionId) {
    throw new ConflictError("TRAIN_RESUME_DATA_CHANGED", `run ${runId} trained on version ${run.datasetVersionId}, its config now resolves to ${resolved.version.id}`, {
      fix: "start a new run for the new data",
    });
  }
  return executeRun(ws, run, resolved, true, hooks);
}

/** The process supervising a running run (its `tunekit train` / `runs resume` CLI), from the registry. */
export function supervisorOf(run: Run): RunOwner | null {
  return run.status === "running" ? run.owner : null;
}

/** True while the supervisor of a running run is alive, or may be (it runs on another host). */
export function isSupervisorAlive(run: Run): boolean {
  const s = supervisorOf(run);
  return s !== null && ownerState(s) !== "dead";
}

function assertSupervisorGone(run: Run): void {
  if (isSupervisorAlive(run)) {
    const s = supervisorOf(run)!;
    throw new ConflictError("TRAIN_STILL_RUNNING", `run ${run.id} is still running (supervisor pid ${s.pid} on ${s.host})`, {
      fix: "wait for it, press Ctrl-C in its terminal, or `tunekit runs cancel RUN` (checkpoint, then pause)",
    });
  }
}

/** The newest complete checkpoint, chosen exactly as the worker's find_checkpoint does. */
export function newestCheckpoint(outputDir: string): { step: number; path: string } | null {
  const dir = join(outputDir, "checkpoints");
  if (!existsSync(dir)) return null;
  let best: { step: number; path: string } | null = null;
  for (const d of readdirSync(dir)) {
    const m = /^step-(\d+)$/.exec(d);
    if (!m || !existsSync(join(dir, d, "trainer_state.json"))) continue;
    const step = Number(m[1]);
    if (!best || step > best.step) best = { step, path: join(dir, d) };
  }
  return best;
}

/** Name of the log event `tunekit runs cancel` appends before it signals the supervisor: stop means pause. */
export const PAUSE_REQUESTED = "pause-requested";

/** How a stop the user asked for ends: `paused` when `runs cancel` asked (after this attempt began), else `interrupted`. */
async function stoppedStatus(ws: Workspace, runId: string): Promise<RunStatus> {
  const started = (await ws.registry.listRunEvents(runId, { type: "status", name: "running" })).at(-1);
  const asked = await ws.registry.listRunEvents(runId, { type: "log", name: PAUSE_REQUESTED, afterId: started?.id ?? 0, limit: 1 });
  return asked.length ? "paused" : "interrupted";
}

async function executeRun(ws: Workspace, run: Run, resolved: ResolvedTrainSpec, resume: boolean, hooks: TrainRunHooks): Promise<TrainRunOutcome> {
  const paths = runPaths(ws, run.id, resolved.spec.output);
  const note = hooks.note ?? (() => undefined);
  const recorder = new EventRecorder(ws.registry, run.id);
  // The worker is handed this exact folder, so the step it resumes from is known here, before it starts: the
  // events of later steps (recorded by an attempt that was killed after its last checkpoint) are superseded in
  // the same transaction that records the resume.
  const checkpoint = resume ? newestCheckpoint(paths.outputDir) : null;
  const owner = currentOwner();
  if (resume) {
    const { superseded } = await ws.registry.resumeRunFrom(run.id, checkpoint?.step ?? 0, owner);
    if (superseded > 0) recorder.log(`superseded ${superseded} events of steps after ${checkpoint?.step ?? 0}: those steps are trained again`);
  } else await ws.registry.transitionRun(run.id, "running", { owner });
  hooks.onRun?.(run, paths);
  let trainer: Trainer | null = null;
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      note("stopping: the worker finishes this step and writes a checkpoint (Ctrl-C again to stop now)");
      trainer?.interrupt();
    } else trainer?.kill();
  };
  const handleSignals = hooks.handleSignals ?? true;
  if (handleSignals) process.on("SIGINT", onSigint);
  const onAbort = () => {
    if (interrupts === 0) onSigint();
  };
  if (hooks.signal?.aborted) interrupts = 1;
  else hooks.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (!resume || !existsSync(join(paths.dataDir, "header.json"))) {
      note(`compiling ${resolved.version.datasetName}@${resolved.version.number} into ${paths.dataDir}`);
      const compiled = await compileRunData(ws, resolved, paths.dataDir);
      const s = compiled.header.splits;
      recorder.log(`compiled shards: train ${s.train?.sequences ?? 0} sequences (${s.train?.tokens ?? 0} tokens), val ${s.val?.sequences ?? 0} sequences`);
    }
    const resumeFrom = checkpoint?.path ?? null;
    if (resume) {
      const msg = checkpoint ? `resuming from the newest checkpoint, ${checkpoint.path} (step ${checkpoint.step})` : "no checkpoint was written before it stopped: starting from step 0";
      note(msg);
      recorder.log(msg);
    }
    if (interrupts > 0) return await stopBeforeTraining(ws, run.id, recorder);
    const params = toWorkerTrainParams(resolved.spec, { modelDir: resolved.modelDir, dataDir: paths.dataDir, outputDir: paths.outputDir, resumeFrom, initAdapter: resolved.initAdapterDir ?? null });
    trainer = await startTrainer(ws, resolved.spec.processes, params, paths);
    if (interrupts > 0) return await stopBeforeTraining(ws, run.id, recorder);
    let result: TrainResult | null = null;
    for await (const event of trainer.events) {
      if (event.event === "done") result = event.result as unknown as TrainResult;
      else {
        recorder.addWorkerEvent(event);
        hooks.onEvent?.(event);
        if (event.event === "progress") hooks.onProgress?.(event);
      }
    }
    await recorder.close();
    if (!result) throw new Error("train request ended without a result");
    if (result.stopped === "interrupted") {
      const done = await ws.registry.transitionRun(run.id, await stoppedStatus(ws, run.id), { result: { ...result } });
      return { run: done, model: null, result };
    }
    const model = await registerFineTunedModel(ws, run, resolved, result);
    await ws.registry.updateRun(run.id, { modelId: model.id });
    const done = await ws.registry.transitionRun(run.id, "succeeded", { result: { ...result, modelId: model.id, modelName: model.name } });
    return { run: done, model, result };
  } catch (error) {
    await recorder.close().catch(() => undefined);
    const body = errorBodyOf(error);
    // A stop the user asked for is an interruption, not a failure; both resume from the newest checkpoint.
    const to = interrupts > 0 ? await stoppedStatus(ws, run.id).catch((): RunStatus => "interrupted") : "failed";
    await ws.registry.transitionRun(run.id, to, { error: body }).catch(() => undefined);
    throw error;
  } finally {
    if (handleSignals) process.off("SIGINT", onSigint);
    hooks.signal?.removeEventListener("abort", onAbort);
    await trainer?.close();
  }
}

/** The process(es) running one `train` request: a stdio worker, or torchrun ranks for several processes. */
interface Trainer {
  events: AsyncIterable<WorkerEvent>;
  interrupt(): void;
  kill(): void;
  close(): Promise<void>;
}

async function startTrainer(ws: Workspace, processes: number, params: Record<string, unknown>, paths: RunPaths): Promise<Trainer> {
  const onStderr = (line: string) => ws.logger.debug({ worker: line }, "worker stderr");
  if (processes > 1) {
    const python = await findPython({ configured: ws.config.worker.python });
    const run = await DistributedTrain.start({ python: python.python, params, paramsPath: join(paths.runDir, "train-params.json"), processes, onStderr });
    return { events: run.events(), interrupt: () => run.interrupt(), kill: () => run.kill(), close: () => run.close() };
  }
  const worker: WorkerClient = await startWorker(ws.config, { onStderr });
  return { events: worker.request("train", params), interrupt: () => worker.signal("SIGINT"), kill: () => worker.signal("SIGKILL"), close: () => worker.close() };
}

/** Ctrl-C before the worker took the train request: nothing trained since the last checkpoint; resumable. */
async function stopBeforeTraining(ws: Workspace, runId: string, recorder: EventRecorder): Promise<TrainRunOutcome> {
  recorder.log("stopped by the user before training started");
  await recorder.close();
  return { run: await ws.registry.transitionRun(runId, await stoppedStatus(ws, runId)), model: null, result: null };
}

function errorBodyOf(error: unknown): { code: string; message: string; fix?: string } {
  if (isTunekitError(error)) {
    const e = error as TunekitError;
    return { code: e.code, message: e.message, fix: e.fix ?? "resume with `tunekit runs resume RUN` once the cause is fixed" };
  }
  return { code: "TRAIN_INTERNAL", message: String((error as Error)?.message ?? error), fix: "resume with `tunekit runs resume RUN`; report the bug if it repeats" };
}
