import http from "node:http";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export interface LoadOptions {
  /** Loopback URL (http://127.0.0.1:PORT/v1/chat/completions). */
  url: string;
  rate: number;
  durationMs: number;
  maxRequests: number;
  body: string;
  headers?: Record<string, string>;
  /** Called per completed request. */
  onResponse?: (status: number, headers: http.IncomingHttpHeaders, latencyMs: number) => void;
  /** Re-read per request: lets a caller point the load at a restarted server. */
  target?: () => string;
  /** Checked before each send: true ends the load early (before durationMs / maxRequests). */
  stopWhen?: () => boolean;
}

export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  latenciesMs: number[];
}

/**
 * Open-loop load on loopback only: requests start at a fixed rate (not when the previous one finishes, so a
 * slow server cannot hide queueing), bounded by a count and a duration. Keep-alive sockets like a real client.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const first = new URL(options.url);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(first.hostname)) throw new Error(`load is only sent to loopback, not ${first.hostname}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const result: LoadResult = { sent: 0, ok: 0, failed: 0, latenciesMs: [] };
  const payload = Buffer.from(options.body);
  const start = performance.now();
  const inflight = new Set<Promise<void>>();
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = http.request(options.target?.() ?? options.url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": payload.length, ...options.headers } }, (res) => {
        res.on("data", () => undefined);
        res.on("end", () => {
          const ms = performance.now() - t0;
          if (res.statusCode === 200) {
            result.ok += 1;
            result.latenciesMs.push(ms);
          } else result.failed += 1;
          options.onResponse?.(res.statusCode ?? 0, res.headers, ms);
          resolve();
        });
        res.on("error", () => {
          result.failed += 1;
          resolve();
        });
      });
      req.on("error", () => {
        result.failed += 1;
        resolve();
      });
      req.end(payload);
    });
  const interval = 1000 / options.rate;
  while (result.sent < options.maxRequests && performance.now() - start < options.durationMs && !options.stopWhen?.()) {
    const due = start + result.sent * interval;
    const wait = due - performance.now();
    // Always yield to the event loop: a loop that only awaited waits over 1 ms would spin synchronously at ≥ 1,000
    // requests/s and starve the sockets it is measuring (responses would wait for the whole run).
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else await new Promise((r) => setImmediate(r));
    // catch up in a burst if the timer was late, as an open-loop generator must
    while (result.sent < options.maxRequests && start + result.sent * interval <= performance.now()) {
      result.sent += 1;
      const p = one().then(() => void inflight.delete(p));
      inflight.add(p);
    }
  }
  await Promise.all(inflight);
  agent.destroy();
  return result;
}

export function percentileOf(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  return s[lo] + (s[Math.ceil(rank)] - s[lo]) * (rank - lo);
}

/**
 * Starts serve-process.ts in a child process; resolves with its URL once it is listening. `localWorker` replaces
 * the local routes' worker command (a fake serving worker); its env reaches the worker through the child's.
 */
export async function spawnGateway(
  config: Record<string, unknown>,
  stateDir: string,
  localWorker?: { python: string; workerArgs: string[]; env?: NodeJS.ProcessEnv },
): Promise<{ child: ChildProcess; url: string; replayed: number }> {
  const script = fileURLToPath(new URL("./serve-process.ts", import.meta.url));
  const args = [script, JSON.stringify(config), stateDir, ...(localWorker ? [JSON.stringify({ python: localWorker.python, workerArgs: localWorker.workerArgs })] : [])];
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...localWorker?.env } });
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`gateway process exited early (${code})`)));
    lines.on("line", (line) => {
      const m = /^READY (\S+) replayed=(\d+)/.exec(line);
      if (m) resolve({ child, url: m[1], replayed: Number(m[2]) });
    });
  });
}
