import { WorkerError } from "../errors/index.js";

/**
 * The version of docs/worker-protocol.md this TypeScript side speaks. It must equal `PROTOCOL` in
 * worker/tunekit_worker/protocol.py; bump both together whenever a request, event or result changes shape.
 * The worker announces its version in `ready` (checked here) and refuses requests that carry another one.
 */
export const WORKER_PROTOCOL = 1;

/** Where the worker came from, for the mismatch message (the interpreter and what it was asked to run). */
export interface WorkerLaunch {
  python: string;
  args: readonly string[];
  /** The worker/ folder put first on PYTHONPATH. */
  workerRoot: string;
}

export const PROTOCOL_FIX =
  "the TypeScript package and the Python worker come from different tunekit releases: reinstall tunekit so both " +
  "come from one release (the npm package ships worker/tunekit_worker), and make sure neither worker.python, " +
  "TUNEKIT_PYTHON nor PYTHONPATH points at another tunekit_worker";

/**
 * Throws WORKER_PROTOCOL_MISMATCH unless the `ready` event speaks WORKER_PROTOCOL. A worker of another version
 * would misread requests or answer in shapes the client misreads, so nothing is sent to it.
 */
export function assertProtocol(ready: { protocol?: unknown; worker_version?: unknown }, launch: WorkerLaunch): void {
  if (ready.protocol === WORKER_PROTOCOL) return;
  const theirs = typeof ready.protocol === "number" ? `protocol ${ready.protocol}` : `no protocol version (ready said ${JSON.stringify(ready.protocol ?? null)})`;
  const version = typeof ready.worker_version === "string" ? `tunekit_worker ${ready.worker_version}` : "a worker";
  throw new WorkerError(
    "WORKER_PROTOCOL_MISMATCH",
    `${version} started by \`${[launch.python, ...launch.args].join(" ")}\` (PYTHONPATH ${launch.workerRoot}) speaks ${theirs}; this tunekit speaks worker protocol ${WORKER_PROTOCOL}`,
    { fix: PROTOCOL_FIX, details: { workerProtocol: ready.protocol ?? null, clientProtocol: WORKER_PROTOCOL, workerVersion: ready.worker_version ?? null, python: launch.python } },
  );
}
