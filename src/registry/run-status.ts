import { ConflictError } from "../errors/index.js";

export const RUN_STATUSES = ["pending", "running", "succeeded", "failed", "cancelled", "interrupted", "paused"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const RUN_KINDS = ["train", "eval", "serve", "data", "curve", "quickstart", "migration"] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/**
 * The run state machine. `interrupted` (Ctrl-C, or its owner process died), `paused` (stopped on request by
 * `tunekit runs cancel` after writing a checkpoint) and `failed` (crash) can go back to `running` on resume;
 * succeeded and cancelled are final.
 */
const TRANSITIONS: Record<RunStatus, readonly RunStatus[]> = {
  pending: ["running", "failed", "cancelled"],
  running: ["running", "succeeded", "failed", "cancelled", "interrupted", "paused"],
  interrupted: ["running", "failed", "cancelled"],
  paused: ["running", "failed", "cancelled"],
  failed: ["running", "cancelled"],
  succeeded: [],
  cancelled: [],
};

export function isTerminal(status: RunStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

export function assertTransition(runId: string, from: RunStatus, to: RunStatus): void {
  if (!TRANSITIONS[from].includes(to)) {
    const allowed = TRANSITIONS[from];
    throw new ConflictError("RUN_BAD_TRANSITION", `run ${runId} is ${from} and cannot become ${to}`, {
      fix: allowed.length
        ? `a ${from} run can only become ${allowed.join(" or ")}`
        : `a ${from} run is final; start a new run instead`,
      details: { runId, from, to },
    });
  }
}

/** Statuses a local training run resumes from (`tunekit runs resume`). */
export const RESUMABLE_STATUSES: readonly RunStatus[] = ["interrupted", "paused", "failed"];
