import { resolve } from "node:path";
import type { WorkerClient } from "./worker-client.js";
import type { SubmitParams, WorkerEvent } from "./worker-events.js";

/** Slots and slot size of a serving worker (docs/worker-protocol.md "Serving"). */
export interface ServingLimits {
  /** Requests decoded at once (KV-cache slots); more wait for a free one. Default 16. */
  maxBatch?: number;
  /** Tokens per slot: prompt + new tokens. Default 2048. */
  maxLen?: number;
}

const DEFAULT_MAX_BATCH = 16;
const DEFAULT_MAX_LEN = 2048;

interface Session {
  client: WorkerClient;
  adapters: ReadonlySet<string>;
}

/**
 * One worker in serving mode for a base model and every adapter asked of it: requests run concurrently in the
 * worker's continuous batch, each with its own adapter (by folder), so two gateway routes over one base with
 * different adapters share one worker and one copy of the weights.
 *
 * The worker learns its adapters at `serve_start`. An adapter not yet loaded (a route's first request after
 * others started) restarts serving with the larger set once the requests in flight are done; requests that
 * arrive meanwhile wait for the new session. Routes register their adapters up front (`register`), so a gateway
 * normally starts serving once with all of them. A worker that died is replaced on the next request.
 */
export class ServingWorker {
  private readonly adapters = new Set<string>();
  private current: Session | null = null;
  private opening: Promise<void> | null = null;
  private idleClient: WorkerClient | null = null;
  private inflight = 0;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly startClient: () => Promise<WorkerClient>,
    private readonly modelDir: string,
    private readonly device: string,
    private readonly limits: ServingLimits = {},
  ) {}

  /** Load this adapter with the next serve_start (no effect on a running session until one is needed). */
  register(adapterDir: string | undefined): void {
    if (adapterDir) this.adapters.add(resolve(adapterDir));
  }

  /** The events of one submit (tokens, then done); `signal` cancels it in the worker and frees its slot. */
  async *submit(params: Omit<SubmitParams, "adapter">, adapterDir: string | undefined, signal?: AbortSignal): AsyncGenerator<WorkerEvent> {
    const adapter = adapterDir ? resolve(adapterDir) : "";
    // A slot holds prompt + new tokens: a longer ask is cut to what fits (finish_reason "length", as at a model's
    // context limit); a prompt that alone fills the slot is the worker's WORKER_INVALID_REQUEST.
    const room = (this.limits.maxLen ?? DEFAULT_MAX_LEN) - params.prompt.length;
    const maxNew = room > 0 ? Math.min(params.max_new_tokens ?? 64, room) : params.max_new_tokens;
    const client = await this.ready(adapter);
    this.inflight++;
    try {
      yield* client.request("submit", { ...params, max_new_tokens: maxNew, adapter: adapter || null }, { signal });
    } finally {
      this.inflight--;
      if (this.inflight === 0) for (const wake of this.drainWaiters.splice(0)) wake();
    }
  }

  /** The worker's pid (tests), null before the first request or after it died. */
  get pid(): number | null {
    const client = this.current?.client;
    return client?.alive ? (client.pid ?? null) : null;
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => undefined);
    const client = this.current?.client ?? this.idleClient;
    this.current = null;
    this.idleClient = null;
    await client?.close();
  }

  private async ready(adapter: string): Promise<WorkerClient> {
    for (;;) {
      const session = this.current;
      if (session && session.client.alive && (adapter === "" || session.adapters.has(adapter))) return session.client;
      if (this.opening) {
        await this.opening.catch(() => undefined);
        continue;
      }
      this.opening = this.open(adapter).finally(() => (this.opening = null));
      await this.opening; // this request's own failure to start serving is its error
    }
  }

  private async open(adapter: string): Promise<void> {
    if (adapter) this.adapters.add(adapter);
    let client = this.current?.client ?? this.idleClient;
    this.current = null; // new requests wait for the new session instead of prolonging the drain
    if (client?.alive) await this.drained();
    else client = await this.startClient();
    this.idleClient = client;
    const names = [...this.adapters];
    await client.call("serve_start", {
      model_dir: this.modelDir,
      adapters: Object.fromEntries(names.map((dir) => [dir, dir])),
      max_batch: this.limits.maxBatch ?? DEFAULT_MAX_BATCH,
      max_len: this.limits.maxLen ?? DEFAULT_MAX_LEN,
      device: this.device,
    });
    this.current = { client, adapters: new Set(names) };
  }

  private drained(): Promise<void> {
    return this.inflight === 0 ? Promise.resolve() : new Promise((r) => this.drainWaiters.push(r));
  }
}
