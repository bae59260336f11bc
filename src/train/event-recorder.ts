import type { Registry, RunEventInput } from "../registry/index.js";
import type { WorkerEvent } from "../runtime/index.js";

/**
 * Records a run's worker events in the registry in batches: one transaction per batch keeps a fast run from
 * spending its time in fsync, and a timer bounds how stale `tunekit runs events` can be. Appends are serialized.
 */
export class EventRecorder {
  private buffer: RunEventInput[] = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private failure: unknown = null;

  constructor(
    private readonly registry: Pick<Registry, "appendRunEvents">,
    private readonly runId: string,
    private readonly options: { maxBatch?: number; maxDelayMs?: number } = {},
  ) {}

  add(event: RunEventInput): void {
    this.buffer.push({ ...event, ts: event.ts ?? new Date().toISOString() });
    if (this.buffer.length >= (this.options.maxBatch ?? 200)) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.maxDelayMs ?? 500);
      this.timer.unref();
    }
  }

  /** Maps a worker event to a registry event; `done` and `ready` are recorded as run status/result instead. */
  addWorkerEvent(event: WorkerEvent): void {
    switch (event.event) {
      case "progress": {
        const { step, total_steps, epoch, loss, lr, tokens_per_s, eta_s } = event;
        this.add({ type: "progress", step, data: { total_steps, epoch, loss, lr, tokens_per_s, eta_s } });
        break;
      }
      case "metric":
        if (event.value !== null) this.add({ type: "metric", step: event.step, name: event.name, value: event.value });
        break;
      case "checkpoint":
        // A checkpoint is what a resume restarts from: make the curve up to it durable now, not in 500 ms.
        this.add({ type: "checkpoint", step: event.step, data: { path: event.path, best: event.best } });
        void this.flush();
        break;
      case "log":
        this.add({ type: "log", name: event.level, data: { message: event.message } });
        break;
      default:
        break;
    }
  }

  log(message: string, level = "info"): void {
    this.add({ type: "log", name: level, data: { message } });
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length > 0) {
      this.chain = this.chain.then(() => this.registry.appendRunEvents(this.runId, batch)).catch((e: unknown) => {
        this.failure = e;
      });
    }
    return this.chain;
  }

  /** Flushes everything; throws the first append failure (a run must not claim events it did not record). */
  async close(): Promise<void> {
    await this.flush();
    if (this.failure) throw this.failure;
  }
}
