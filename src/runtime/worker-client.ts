import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { WorkerError } from "../errors/index.js";
import { WORKER_PROTOCOL, assertProtocol } from "./protocol-version.js";
import type { GenerateParams, GenerateResult, ReadyEvent, WorkerEvent } from "./worker-events.js";

export type { CheckpointEvent, DoneEvent, ErrorEvent, GenerateParams, GenerateResult, LogEvent, MetricEvent, ProgressEvent, ReadyEvent, SubmitParams, SubmitResult, TokenEvent, TrainResult, WorkerEvent } from "./worker-events.js";

/** `<package root>/worker`, found by walking up from this file so it works from src/train and dist/train. */
export function workerPackageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, "worker", "tunekit_worker", "__main__.py"))) return join(dir, "worker");
    const parent = dirname(dir);
    if (parent === dir) {
      throw new WorkerError("WORKER_PACKAGE_MISSING", `the Python package worker/tunekit_worker was not found above ${from}`, {
        fix: "reinstall tunekit: the npm package ships worker/tunekit_worker",
      });
    }
    dir = parent;
  }
}

export interface StartWorkerOptions {
  python: string;
  /** Replaces `-m tunekit_worker` (tests use a fake worker script). */
  args?: string[];
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Every stderr line of the worker (free text: tracebacks, library warnings). */
  onStderr?: (line: string) => void;
  /** Lines of stderr kept for crash reports. */
  tailLines?: number;
}

interface Pending {
  push(event: WorkerEvent): void;
  fail(error: Error): void;
}

/**
 * One worker process speaking docs/worker-protocol.md. `request()` streams the events of one request (ending
 * after its `done`; an `error` event or a crash throws a WorkerError); `call()` and `generate()` return the
 * result. A long-lived client serves many requests (evaluation and the gateway reuse one). Always `close()` it.
 */
export class WorkerClient {
  readonly ready: ReadyEvent;
  private readonly pending = new Map<string, Pending>();
  private readonly tail: string[] = [];
  private nextId = 1;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    ready: ReadyEvent,
    exited: Promise<void>,
    private readonly tailLines: number,
  ) {
    this.ready = ready;
    this.exited = exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitInfo === null;
  }

  static async start(options: StartWorkerOptions): Promise<WorkerClient> {
    const workerRoot = workerPackageRoot();
    const env = { ...(options.env ?? process.env) };
    env.PYTHONPATH = env.PYTHONPATH ? `${workerRoot}:${env.PYTHONPATH}` : workerRoot;
    env.PYTHONUNBUFFERED = "1";
    const args = options.args ?? ["-m", "tunekit_worker"];
    const child = spawn(options.python, args, { stdio: ["pipe", "pipe", "pipe"], env });
    const tailLines = options.tailLines ?? 40;
    let client: WorkerClient | undefined = undefined;
    const early: string[] = [];
    let exitResolve!: () => void;
    const exited = new Promise<void>((r) => (exitResolve = r));
    const timeoutMs = options.readyTimeoutMs ?? 120_000;

    const ready = await new Promise<ReadyEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(
          new WorkerError("WORKER_READY_TIMEOUT", `the worker (${options.python} ${args.join(" ")}) sent no ready event within ${timeoutMs} ms`, {
            fix: "check that PyTorch imports quickly with that Python, or raise worker.readyTimeoutMs in tunekit.yaml",
            details: { stderr: early.slice(-tailLines) },
          }),
        );
      }, timeoutMs);
      child.on("error", (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new WorkerError("WORKER_SPAWN_FAILED", `cannot start ${options.python}: ${err.message}`, { fix: "check worker.python / TUNEKIT_PYTHON" }));
      });
      createInterface({ input: child.stderr! }).on("line", (line) => {
        if (client) client.recordStderr(line);
        else early.push(line);
        options.onStderr?.(line);
      });
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const event = parseLine(line);
        if (!client) {
          if (event?.event === "ready") {
            clearTimeout(timer);
            try {
              assertProtocol(event, { python: options.python, args, workerRoot });
              resolve(event as ReadyEvent);
            } catch (mismatch) {
              child.kill("SIGKILL");
              reject(mismatch as Error);
            }
          } else early.push(`(stdout before ready) ${line}`);
          return;
        }
        client.dispatch(event, line);
      });
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        if (client) client.onExit(code, signal);
        else {
          reject(
            new WorkerError("WORKER_CRASHED", `the worker exited before it was ready (${describeExit(code, signal)})${tailText(early, tailLines)}`, {
              fix: "read the worker output above; run `python3 -m tunekit_worker` by hand to see the failure",
              details: { exitCode: code, signal, stderr: early.slice(-tailLines) },
            }),
          );
        }
        exitResolve();
      });
    });
    client = new WorkerClient(child, ready, exited, tailLines);
    client.tail.push(...early.slice(-tailLines));
    child.stdin!.on("error", () => undefined); // EPIPE after a crash is reported through `exit`
    return client;
  }

  /**
   * Streams the events of one request; the last one is `done`. Throws WorkerError on `error` or a crash.
   * `signal` (serving mode's `submit`): on abort the worker is sent `cancel` for this request, which then ends
   * with its own `done` (finish_reason "cancelled"), still yielded here, so the slot is known to be free.
   */
  async *request(method: string, params: Record<string, unknown> = {}, options: { signal?: AbortSignal } = {}): AsyncGenerator<WorkerEvent> {
    if (!this.alive) throw this.crashError(`cannot send ${method}`);
    const id = `r${this.nextId++}`;
    const onAbort = () => {
      if (this.alive) this.call("cancel", { request_id: id }).catch(() => undefined);
    };
    const queue: WorkerEvent[] = [];
    let failure: Error | null = null;
    let wake: (() => void) | null = null;
    const notify = () => {
      wake?.();
      wake = null;
    };
    this.pending.set(id, {
      push: (e) => {
        queue.push(e);
        notify();
      },
      fail: (err) => {
        failure = err;
        notify();
      },
    });
    try {
      this.child.stdin!.write(`${JSON.stringify({ id, method, params, protocol: WORKER_PROTOCOL })}\n`);
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener("abort", onAbort, { once: true });
      for (;;) {
        while (queue.length > 0) {
          const event = queue.shift()!;
          if (event.event === "error") {
            throw new WorkerError(event.code, event.message, { fix: event.fix, details: { method } });
          }
          yield event;
          if (event.event === "done") return;
        }
        if (failure) throw failure;
        await new Promise<void>((r) => (wake = r));
      }
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      this.pending.delete(id);
    }
  }

  /** Sends a request and returns its `done.result`; other events go to `onEvent`. */
  async call<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, onEvent?: (e: WorkerEvent) => void): Promise<T> {
    for await (const event of this.request(method, params)) {
      if (event.event === "done") return event.result as T;
      onEvent?.(event);
    }
    throw new WorkerError("WORKER_PROTOCOL", `request ${method} ended without done`, { fix: "report this bug" });
  }

  generate(params: GenerateParams): Promise<GenerateResult> {
    return this.call<GenerateResult>("generate", params as unknown as Record<string, unknown>);
  }

  /** Forwards a signal (SIGINT: checkpoint, then stop the current train request). */
  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** Asks the worker to exit, then kills it if it has not within `graceMs`. Idempotent. */
  async close(graceMs = 3000): Promise<void> {
    if (!this.alive) return;
    try {
      this.child.stdin!.write(`${JSON.stringify({ id: "shutdown", method: "shutdown", params: {}, protocol: WORKER_PROTOCOL })}\n`);
      this.child.stdin!.end();
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The last stderr lines (tracebacks live there). */
  stderrTail(): string[] {
    return [...this.tail];
  }

  private recordStderr(line: string): void {
    this.tail.push(line);
    if (this.tail.length > this.tailLines) this.tail.shift();
    for (const p of this.pending.values()) p.push({ event: "log", level: "stderr", message: line });
  }

  private dispatch(event: WorkerEvent | null, line: string): void {
    if (!event) {
      this.recordStderr(`(unparsable stdout) ${line}`);
      return;
    }
    const id = (event as { id?: unknown }).id;
    const target = typeof id === "string" ? this.pending.get(id) : undefined;
    if (target) target.push(event);
    else if (event.event === "error" && this.pending.size > 0) {
      // An error without a usable id (e.g. a malformed request) belongs to whatever is waiting.
      for (const p of this.pending.values()) p.push(event);
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exitInfo = { code, signal };
    for (const p of this.pending.values()) p.fail(this.crashError("the request did not finish"));
  }

  private crashError(what: string): WorkerError {
    const info = this.exitInfo ?? { code: null, signal: null };
    return new WorkerError("WORKER_CRASHED", `the worker exited (${describeExit(info.code, info.signal)}); ${what}${tailText(this.tail, this.tailLines)}`, {
      fix: "read the worker's last output above; if it ran out of memory lower batchSize or seqLen; a training run can continue with `tunekit runs resume RUN`",
      details: { exitCode: info.code, signal: info.signal, stderr: [...this.tail] },
    });
  }
}

function parseLine(line: string): WorkerEvent | null {
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === "object" && typeof (value as { event?: unknown }).event === "string" ? (value as WorkerEvent) : null;
  } catch {
    return null;
  }
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

function tailText(lines: readonly string[], n: number): string {
  const last = lines.slice(-n);
  return last.length ? `\nlast worker output:\n${last.map((l) => `  | ${l}`).join("\n")}` : "";
}
