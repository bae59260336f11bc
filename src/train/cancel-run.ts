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
