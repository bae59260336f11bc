import { spawn } from "node:child_process";
import { mkdirSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { ConflictError, UsageError } from "../errors/index.js";
import { RESUMABLE_STATUSES, type Run, type Workspace } from "../registry/index.js";
import { writeFileAtomicSync } from "../registry/index.js";
import { cancelRun, isSupervisorAlive, supervisorOf, resolveTrainSpecInput, type CancelOptions, type CancelOutcome } from "../train/index.js";
import { PACKAGE_ROOT } from "./static-files.js";

/**
 * Starting, resuming and cancelling training runs from the dashboard. A run is supervised by its own
 * `tunekit` process (detached, logging to .tunekit/ui/logs/), exactly as if started in a terminal, so closing
 * the dashboard never stops training; the registry is the only channel between the two.
 */
export interface LaunchResult {
  run: Run | null;
  pid: number;
  log: string;
}

const CLI = join(PACKAGE_ROOT, "bin", "tunekit.js");

function launch(ws: Workspace, args: string[], tag: string): { pid: number; log: string } {
  const dir = join(ws.stateDir, "ui", "logs");
  mkdirSync(dir, { recursive: true });
  const log = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${tag}.log`);
  const fd = openSync(log, "a");
  try {
    const child = spawn(process.execPath, [CLI, "--workspace", ws.root, ...args], { cwd: ws.root, detached: true, stdio: ["ignore", fd, fd], env: process.env });
    child.unref();
    return { pid: child.pid ?? -1, log };
  } finally {
    closeSync(fd);
  }
}

async function waitFor<T>(probe: () => Promise<T | null>, ms: number): Promise<T | null> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== null || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Validates the spec now (every problem at once), then starts `tunekit train` on it; returns the new run once it exists. */
export async function startRunFromSpec(ws: Workspace, spec: Record<string, unknown>): Promise<LaunchResult> {
  if ((spec.provider ?? "local") !== "local") {
    throw new UsageError("UI_HOSTED_TRAIN_UNSUPPORTED", `the dashboard starts local runs only (provider ${JSON.stringify(spec.provider)})`, {
      fix: "start paid hosted jobs from a terminal, where the cost is confirmed: tunekit train --config train.yaml",
    });
  }
  await resolveTrainSpecInput(ws, spec, "train spec from the dashboard");
  const dir = join(ws.stateDir, "ui", "specs");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `train-${Date.now()}.yaml`);
  writeFileAtomicSync(file, stringify(spec));
  const since = new Date(Date.now() - 1000).toISOString();
  const before = new Set((await ws.registry.listRuns({ kind: "train", limit: 20 })).map((r) => r.id));
  const { pid, log } = launch(ws, ["train", "--config", file], "train");
  const run = await waitFor(async () => (await ws.registry.listRuns({ kind: "train", limit: 20 })).find((r) => !before.has(r.id) && r.createdAt >= since) ?? null, 20_000);
  return { run, pid, log };
}

export async function resumeRunInBackground(ws: Workspace, id: string): Promise<LaunchResult> {
  const run = await ws.registry.getRun(id);
  if (run.kind !== "train" || run.backend !== "local") {
    throw new UsageError("TRAIN_NOT_RESUMABLE", `run ${id} is a ${run.kind} run on ${run.backend ?? "no backend"}; only local training runs resume`, { fix: "pick a local training run" });
  }
  if (run.status === "running" && isSupervisorAlive(run)) {
    throw new ConflictError("TRAIN_NOT_RESUMABLE", `run ${id} is running (supervisor pid ${supervisorOf(run)?.pid})`, { fix: "wait for it or cancel it first" });
  }
  if (!RESUMABLE_STATUSES.includes(run.status) && run.status !== "running") {
    throw new ConflictError("TRAIN_NOT_RESUMABLE", `run ${id} is ${run.status}; only interrupted, paused or failed runs resume`, { fix: "start a new run instead" });
  }
  const { pid, log } = launch(ws, ["runs", "resume", id], `resume-${id}`);
  const resumed = await waitFor(async () => {
    const r = await ws.registry.getRun(id);
    return r.status === "running" && r.updatedAt !== run.updatedAt ? r : null;
  }, 20_000);
  return { run: resumed ?? (await ws.registry.getRun(id)), pid, log };
}

/**
 * The dashboard's Cancel: exactly what `tunekit runs cancel` does (a hosted job is cancelled at its provider
 * before the run is marked; a live local run pauses at a checkpoint).
 */
export async function cancelRunNow(ws: Workspace, id: string, options: CancelOptions = {}): Promise<CancelOutcome> {
  return cancelRun(ws, id, { waitMs: 60_000, ...options });
}
