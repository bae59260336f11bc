import type { TunekitConfig } from "../config/index.js";
import { findPython } from "./python.js";
import { WorkerClient } from "./worker-client.js";

/** Starts a worker with the configured Python, runs `fn`, and always shuts the worker down. */
export async function withWorker<T>(config: Pick<TunekitConfig, "worker"> | null, fn: (worker: WorkerClient) => Promise<T>): Promise<T> {
  const python = await findPython({ configured: config?.worker.python });
  const worker = await WorkerClient.start({ python: python.python, readyTimeoutMs: config?.worker.readyTimeoutMs });
  try {
    return await fn(worker);
  } finally {
    await worker.close();
  }
}
