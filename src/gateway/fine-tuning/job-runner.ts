import { ConflictError, toTunekitError } from "../../errors/index.js";
import type { Logger } from "../../log/index.js";
import { isTerminal, type Run, type Workspace } from "../../registry/index.js";
import { cancelRun, markServerSupervised, resumeRun, startQueuedRun, type TrainRunOutcome } from "../../train/index.js";
import { CANCEL_EVENT, jobIdOf, type FineTuningJobs } from "./jobs.js";

/** How often a job in training looks for a cancel request recorded by another process (`tunekit runs cancel`). */
const CANCEL_POLL_MS = 1000;

interface Active {
  runId: string;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * Trains the queue of jobs in the serve process, one at a time, oldest first. The queue is the registry itself:
 * pending job runs start, interrupted ones (the gateway died or was stopped while training; the registry turns
 * a running run whose owner is dead into interrupted) resume from their newest checkpoint, so a restart loses
 * nothing. A cancel asked for is recorded first, so a job stopped by a crash mid-cancel still ends cancelled.
 * A job in training is marked server-supervised, so `tunekit runs cancel` records a cancel request (which the
 * runner polls for) instead of sending SIGINT to its owner, this whole serve process.
 */
export class JobRunner {
  private active: Active | null = null;
  private loop: Promise<void> | null = null;
  private again = false;
  private closed = false;

  constructor(
    private readonly ws: Workspace,
    private readonly jobs: FineTuningJobs,
    private readonly onSucceeded: (run: Run) => Promise<void>,
    private readonly logger?: Logger,
  ) {}

  /** The run in training (or being finished) now, if any. */
  get activeRunId(): string | null {
    return this.active?.runId ?? null;
  }

  /** Looks at the queue again (after a create, at start). */
  kick(): void {
    if (this.closed) return;
    if (this.loop) {
      this.again = true;
      return;
    }
    this.loop = this.drain().finally(() => {
      this.loop = null;
      if (this.again && !this.closed) this.kick();
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      this.again = false;
      if (this.closed) return;
      const next = await this.next();
      if (!next) return;
      await this.runOne(next.run, next.action);
    }
  }

  /** The job to work on: a cancel left half-done, a resume, then the oldest pending job. */
  private async next(): Promise<{ run: Run; action: "start" | "resume" | "cancel" } | null> {
    const runs = (await this.jobs.runs()).map((j) => j.run).reverse();
    for (const run of runs) {
      if ((run.status === "interrupted" || run.status === "paused") && (await this.jobs.cancelRequested(run.id))) return { run, action: "cancel" };
    }
    const waiting = runs.find((r) => r.status === "interrupted" || r.status === "paused");
    if (waiting) return { run: waiting, action: "resume" };
    const pending = runs.find((r) => r.status === "pending");
    return pending ? { run: pending, action: "start" } : null;
  }

  private async runOne(run: Run, action: "start" | "resume" | "cancel"): Promise<void> {
    if (action === "cancel") {
      await cancelRun(this.ws, run.id).catch((e) => this.logger?.error({ run: run.id, err: toTunekitError(e).message }, "cancelling a fine-tuning job failed"));
      return;
    }
    const abort = new AbortController();
    let finish = () => undefined as void;
    this.active = { runId: run.id, abort, done: new Promise<void>((r) => (finish = r)) };
    let watch: NodeJS.Timeout | undefined;
    try {
      // Before the run turns running under this pid: there is no moment a canceller could take us for a CLI.
      await markServerSupervised(this.ws, run.id, "tunekit serve's fine-tuning job runner");
      watch = setInterval(() => {
        this.jobs.cancelRequested(run.id).then((asked) => asked && abort.abort(), () => undefined);
      }, CANCEL_POLL_MS);
      const hooks = { handleSignals: false, signal: abort.signal, note: (line: string) => this.logger?.info({ run: run.id }, line) };
      this.logger?.info({ run: run.id, action }, "fine-tuning job starting");
      const outcome: TrainRunOutcome = action === "start" ? await startQueuedRun(this.ws, run.id, hooks) : await resumeRun(this.ws, run.id, hooks);
      if (outcome.run.status === "succeeded") await this.onSucceeded(outcome.run);
      else if (await this.jobs.cancelRequested(run.id)) await cancelRun(this.ws, run.id);
    } catch (error) {
      this.logger?.error({ run: run.id, err: toTunekitError(error).message }, "fine-tuning job failed");
      // A job that failed before training began (its model or data went away) must not stay pending forever.
      const now = await this.ws.registry.getRun(run.id).catch(() => null);
      if (now?.status === "pending") {
        const e = toTunekitError(error);
        await this.ws.registry.transitionRun(run.id, "failed", { error: { code: e.code, message: e.message, fix: e.fix } }).catch(() => undefined);
      }
    } finally {
      clearInterval(watch);
      this.active = null;
      finish();
    }
  }

  /**
   * OpenAI's cancel: final. A job training here is stopped at its next step (a checkpoint is written) and then
   * cancelled; a queued or interrupted one is cancelled at once.
   */
  async cancel(run: Run): Promise<void> {
    if (run.status === "cancelled") return;
    if (isTerminal(run.status)) {
      throw new ConflictError("FT_JOB_FINISHED", `Job ${jobIdOf(run.id)} has already ${run.status}; there is nothing to cancel`, { fix: "list jobs that can be cancelled with GET /v1/fine_tuning/jobs (status queued or running)" });
    }
    await this.ws.registry.appendRunEvents(run.id, [{ type: "log", name: CANCEL_EVENT, data: { message: "cancellation requested through the API" } }]);
    const active = this.active;
    if (active?.runId === run.id) {
      active.abort.abort();
      await active.done;
      return;
    }
    const now = await this.ws.registry.getRun(run.id);
    // Running under this process but not (or no longer) the active job: the runner's own finish cancels it.
    if (now.status === "running" && now.owner?.pid === process.pid) return;
    await cancelRun(this.ws, run.id);
  }

  /** Stops the job in training (it is interrupted and resumes at the next start) and waits for the loop. */
  async close(): Promise<void> {
    this.closed = true;
    this.active?.abort.abort();
    await this.loop;
  }
}
