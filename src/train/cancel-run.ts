import { ConflictError } from "../errors/index.js";
import { cancelHostedRun, type BackendContext, type FineTuneBackend } from "../providers/index.js";
import { currentOwner, isTerminal, type Run, type Workspace } from "../registry/index.js";
import { PAUSE_REQUESTED, isSupervisorAlive, supervisorOf } from "./local-run.js";

/**
 * `tunekit runs cancel RUN` and the dashboard's Cancel, one function for both:
 * - a hosted job is cancelled at the provider first (it keeps training and billing otherwise), and the run
 *   records what the provider then reports; a refusal is recorded as a log event and thrown, the run unchanged;
 * - a live local training run is paused: its supervisor writes a checkpoint and stops, and the run ends
 *   `paused`, which `tunekit runs resume` continues (so the advice the supervisor prints is true);
 * - a live run supervised inside a server (the gateway's fine-tuning job runner, which marked it with
 *   `markServerSupervised`) is cancelled through the registry: a recorded CANCEL_REQUESTED the server acts on.
 *   Signalling its owner would stop the whole server, not the run;
 * - anything else that is not final (paused, interrupted, failed, pending, or running with nobody alive to
 *   stop) is cancelled for good.
 */
export interface CancelOptions {
  /** How long to wait for a live supervisor to checkpoint and stop. */
  waitMs?: number;
  note?: (line: string) => void;
  /** Tests: the provider's context (env, retries) or a backend instance. */
  backendContext?: BackendContext;
  backend?: FineTuneBackend;
}

export interface CancelOutcome {
  run: Run;
  /** What happened: the provider job was cancelled, a local run paused at a checkpoint, or the record cancelled. */
  action: "hosted-cancelled" | "paused" | "cancelled";
}

const HOSTED_BACKENDS = ["openai", "bedrock", "together"];

/** Log event: stop this run for good. A server supervising the run watches for it (and appends it itself). */
export const CANCEL_REQUESTED = "cancel-requested";
/** Log event a server records (with its owner identity) before it supervises a run: stop it through the registry. */
export const SERVER_SUPERVISED = "server-supervised";

/** Recorded by a long-lived server before it trains a run in its own process, so no one ever signals it. */
export async function markServerSupervised(ws: Workspace, runId: string, server: string): Promise<void> {
  const owner = currentOwner();
  await ws.registry.appendRunEvents(runId, [{ type: "log", name: SERVER_SUPERVISED, data: { message: `supervised by ${server} (pid ${owner.pid}); cancel requests go through the registry`, server, pid: owner.pid, startTime: owner.startTime, host: owner.host } }]);
}

/** The server that marked itself supervisor of `run` and owns it now, if any (same host, pid and start time). */
async function serverSupervising(ws: Workspace, run: Run): Promise<string | null> {
  const owner = supervisorOf(run);
  if (!owner) return null;
  for (const e of await ws.registry.listRunEvents(run.id, { type: "log", name: SERVER_SUPERVISED })) {
    const d = e.data as { server?: string; pid?: number; startTime?: string | null; host?: string } | null;
    if (d?.pid === owner.pid && d.host === owner.host && (d.startTime ?? null) === owner.startTime) return d.server ?? "a server";
  }
  return null;
}

export async function cancelRun(ws: Workspace, id: string, options: CancelOptions = {}): Promise<CancelOutcome> {
  const note = options.note ?? (() => undefined);
  let run = await ws.registry.getRun(id);
  if (run.status === "cancelled") return { run, action: "cancelled" };
  if (isTerminal(run.status)) {
    throw new ConflictError("RUN_ALREADY_FINISHED", `run ${id} is ${run.status}; there is nothing to cancel`, { fix: "list active runs with `tunekit runs list --status running`" });
  }
  if (HOSTED_BACKENDS.includes(String(run.backend)) && (run.result as { jobId?: string } | null)?.jobId) {
    note(`cancelling the ${run.backend} job of ${id}…`);
    try {
      return { run: await cancelHostedRun(ws, id, options.backendContext, options.backend), action: "hosted-cancelled" };
    } catch (error) {
      const e = error as { code?: string; message?: string };
      await ws.registry.appendRunEvents(id, [{ type: "log", name: "error", data: { message: `cancel refused by ${run.backend}: ${String(e.message ?? error)}`, code: e.code ?? null } }]);
      throw error;
    }
  }
  if (run.status === "running" && run.kind === "train" && run.backend === "local" && isSupervisorAlive(run)) {
    const owner = supervisorOf(run)!;
    const server = await serverSupervising(ws, run);
    if (server) return await cancelThroughRegistry(ws, run, server, options);
    if (owner.host !== currentOwner().host) {
      throw new ConflictError("RUN_OWNER_ELSEWHERE", `run ${id} is supervised by pid ${owner.pid} on ${owner.host}, not this host`, { fix: `run \`tunekit runs cancel ${id}\` on ${owner.host}` });
    }
    note(`asking the supervisor (pid ${owner.pid}) to checkpoint and pause ${id}…`);
    // Recorded before the signal, so the supervisor knows this stop is a pause and not a Ctrl-C.
    await ws.registry.appendRunEvents(id, [{ type: "log", name: PAUSE_REQUESTED, data: { message: `pause requested by pid ${process.pid}`, pid: process.pid } }]);
    process.kill(owner.pid, "SIGINT");
    const waitMs = options.waitMs ?? 120_000;
    const deadline = Date.now() + waitMs;
    while (run.status === "running" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      run = await ws.registry.getRun(id);
    }
    if (run.status === "running") {
      throw new ConflictError("RUN_STILL_RUNNING", `run ${id} did not stop within ${waitMs / 1000} s`, { fix: "wait and run `tunekit runs cancel` again, or stop its process" });
    }
    if (run.status === "paused" || run.status === "interrupted") return { run, action: "paused" };
    return { run, action: "cancelled" };
  }
  return { run: await ws.registry.transitionRun(id, "cancelled"), action: "cancelled" };
}

/** Records the cancel request and waits for the server to stop the run (at its next step) and cancel it. */
async function cancelThroughRegistry(ws: Workspace, run: Run, server: string, options: CancelOptions): Promise<CancelOutcome> {
  const note = options.note ?? (() => undefined);
  note(`asking ${server} (pid ${run.owner?.pid}) to stop and cancel ${run.id}…`);
  await ws.registry.appendRunEvents(run.id, [{ type: "log", name: CANCEL_REQUESTED, data: { message: `cancellation requested by pid ${process.pid} (tunekit runs cancel)`, pid: process.pid } }]);
  const waitMs = options.waitMs ?? 120_000;
  const deadline = Date.now() + waitMs;
  // interrupted / paused are on the way: the server checkpoints, stops, then records cancelled.
  while (!isTerminal(run.status) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    run = await ws.registry.getRun(run.id);
  }
  if (!isTerminal(run.status)) {
    throw new ConflictError("RUN_STILL_RUNNING", `run ${run.id} did not stop within ${waitMs / 1000} s; its cancel request stays recorded and ${server} acts on it`, { fix: `wait and check with \`tunekit runs show ${run.id}\`` });
  }
  if (run.status !== "cancelled") {
    throw new ConflictError("RUN_ALREADY_FINISHED", `run ${run.id} ${run.status} before the cancel took effect`, { fix: "nothing to do: the run is final" });
  }
  return { run, action: "cancelled" };
}
