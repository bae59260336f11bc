import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { cpus } from "node:os";
import { writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { WorkerError } from "../errors/index.js";
import { WORKER_PROTOCOL } from "./protocol-version.js";
import { workerPackageRoot } from "./worker-client.js";
import type { WorkerEvent } from "./worker-events.js";

export interface DistributedTrainOptions {
  python: string;
  params: Record<string, unknown>;
  /** Where the params file is written (the run folder). */
  paramsPath: string;
  /** Data-parallel processes: torchrun --nproc_per_node (one per GPU; gloo on CPU). */
  processes: number;
  env?: NodeJS.ProcessEnv;
  onStderr?: (line: string) => void;
  tailLines?: number;
}

/**
 * One `train` request run data-parallel on this machine: N ranks of `python -m tunekit_worker train --params
 * FILE` with the env:// rendezvous torchrun --standalone sets up (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR,
 * MASTER_PORT); the worker joins PyTorch's process group and wraps the model in DDP (NCCL on GPUs, gloo on CPU).
 * We launch the ranks ourselves rather than through torchrun: Debian's torch 1.13 launcher fails on Python 3.11
 * (its Std flag lookup returns None), and owning the ranks lets Ctrl-C reach each of them directly — torchrun's
 * agent would tear them down before they checkpoint. Rank 0 prints the protocol events (one-shot mode); the
 * ranks agree on the stop step among themselves. A rank that dies takes the others down (WORKER_CRASHED).
 */
export class DistributedTrain {
  private readonly tail: string[] = [];
  private exitInfo: { rank: number; code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;
  private readonly queue: (WorkerEvent | null)[] = [];
  private wake: (() => void) | null = null;
  private sawDone = false;

  private constructor(
    private readonly ranks: ChildProcess[],
    private readonly tailLines: number,
  ) {
    let alive = ranks.length;
    this.exited = new Promise((resolve) => {
      ranks.forEach((child, rank) => {
        child.on("exit", (code, signal) => {
          if ((code !== 0 || signal) && !this.exitInfo) {
            this.exitInfo = { rank, code, signal };
            this.kill(); // DDP cannot continue without a rank; do not leave the others blocked in a collective
          }
          if (rank === 0 || this.exitInfo) this.push(null);
          if (--alive === 0) resolve();
        });
      });
    });
  }

  static async start(options: DistributedTrainOptions): Promise<DistributedTrain> {
    await writeFile(options.paramsPath, JSON.stringify(options.params));
    const workerRoot = workerPackageRoot();
    const port = await freePort();
    const ranks: ChildProcess[] = [];
    for (let rank = 0; rank < options.processes; rank++) {
      const env: NodeJS.ProcessEnv = {
        ...(options.env ?? process.env),
        PYTHONUNBUFFERED: "1",
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        WORLD_SIZE: String(options.processes),
        LOCAL_WORLD_SIZE: String(options.processes),
        MASTER_ADDR: "127.0.0.1",
        MASTER_PORT: String(port),
        // CPU ranks share the cores: without this each rank starts one thread per core and they thrash.
        OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? String(Math.max(1, Math.floor(cpus().length / options.processes))),
      };
      env.PYTHONPATH = env.PYTHONPATH ? `${workerRoot}:${env.PYTHONPATH}` : workerRoot;
      ranks.push(spawn(options.python, ["-m", "tunekit_worker", "train", "--params", options.paramsPath, "--protocol", String(WORKER_PROTOCOL)], { stdio: ["ignore", "pipe", "pipe"], env }));
    }
    const run = new DistributedTrain(ranks, options.tailLines ?? 40);
    ranks.forEach((child, rank) => {
      child.on("error", (err) => run.recordStderr(`rank ${rank}: cannot start ${options.python}: ${err.message}`));
      createInterface({ input: child.stderr! }).on("line", (line) => {
        const text = `rank ${rank}: ${line}`;
        run.recordStderr(text);
        options.onStderr?.(text);
      });
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (rank === 0) {
          try {
            const event = JSON.parse(line) as WorkerEvent;
            if (event && typeof event.event === "string") return run.push(event);
          } catch {
            // not a protocol line
          }
        }
        run.recordStderr(`rank ${rank} (stdout): ${line}`);
      });
    });
    return run;
  }

  /** The request's events; ends after `done`; throws WorkerError on `error` or when a rank dies first. */
  async *events(): AsyncGenerator<WorkerEvent> {
    for (;;) {
      while (this.queue.length > 0) {
        const event = this.queue.shift()!;
        if (event === null) {
          if (this.sawDone) return;
          const e = this.exitInfo ?? { rank: 0, code: null, signal: null };
          const how = e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
          const tail = this.tail.length ? `\nlast worker output:\n${this.tail.map((l) => `  | ${l}`).join("\n")}` : "";
          throw new WorkerError("WORKER_CRASHED", `training rank ${e.rank} exited (${how}) before finishing${tail}`, {
            fix: "read the ranks' output above; a training run can continue with `tunekit runs resume RUN`",
            details: { rank: e.rank, exitCode: e.code, signal: e.signal, stderr: [...this.tail] },
          });
        }
        if (event.event === "error") throw new WorkerError(event.code, event.message, { fix: event.fix, details: { method: "train" } });
        if (event.event === "done") this.sawDone = true;
        yield event;
        if (event.event === "done") return;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  /** SIGINT to every rank: each finishes its step, they agree to stop, rank 0 checkpoints. */
  interrupt(): void {
    for (const child of this.ranks) if (child.exitCode === null) child.kill("SIGINT");
  }

  kill(): void {
    for (const child of this.ranks) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }

  /** Waits for every rank to exit (they do after `done`); kills them after `graceMs`. */
  async close(graceMs = 30_000): Promise<void> {
    const timer = setTimeout(() => this.kill(), graceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private push(event: WorkerEvent | null): void {
    this.queue.push(event);
    this.wake?.();
    this.wake = null;
  }

  private recordStderr(line: string): void {
    this.tail.push(line);
    if (this.tail.length > this.tailLines) this.tail.shift();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
