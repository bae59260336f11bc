import type { TunekitConfig } from "../config/index.js";
import { WorkerError } from "../errors/index.js";
import { pythonCandidates, pythonNotFoundError, type PythonAttempt } from "./python.js";
import { WorkerClient, type StartWorkerOptions } from "./worker-client.js";

const NO_TORCH = /No module named '?torch|ImportError|ModuleNotFoundError|libopenblas|cannot open shared object/;

/**
 * Starts a worker with the first Python that can import torch: config `worker.python`, TUNEKIT_PYTHON, python3,
 * /usr/bin/python3. Starting the worker *is* the check (it imports torch before saying ready), so a working
 * interpreter costs one torch import, not two. A worker that fails for another reason is reported as it is.
 */
export async function startWorker(
  config: Pick<TunekitConfig, "worker"> | null,
  options: Omit<StartWorkerOptions, "python"> & { discoveryEnv?: NodeJS.ProcessEnv; fallbacks?: readonly string[] } = {},
): Promise<WorkerClient> {
  const attempts: PythonAttempt[] = [];
  const candidates = pythonCandidates({ configured: config?.worker.python, env: options.discoveryEnv, fallbacks: options.fallbacks });
  for (const c of candidates) {
    try {
      const { discoveryEnv: _e, fallbacks: _f, ...start } = options;
      return await WorkerClient.start({ readyTimeoutMs: config?.worker.readyTimeoutMs, ...start, python: c.python });
    } catch (e) {
      if (!(e instanceof WorkerError)) throw e;
      if (e.code === "WORKER_SPAWN_FAILED") {
        attempts.push({ ...c, ok: false, reason: /ENOENT/.test(e.message) ? "not found" : `cannot run it (${e.message})` });
        continue;
      }
      const stderr = ((e.details?.stderr as string[] | undefined) ?? []).filter(Boolean);
      if (e.code === "WORKER_CRASHED" && stderr.some((l) => NO_TORCH.test(l))) {
        attempts.push({ ...c, ok: false, reason: `\`import torch\` failed: ${stderr[stderr.length - 1]}` });
        continue;
      }
      throw e;
    }
  }
  throw pythonNotFoundError(attempts);
}

/** Starts a worker, runs `fn`, and always shuts the worker down. */
export async function withWorker<T>(config: Pick<TunekitConfig, "worker"> | null, fn: (worker: WorkerClient) => Promise<T>): Promise<T> {
  const worker = await startWorker(config);
  try {
    return await fn(worker);
  } finally {
    await worker.close();
  }
}
