import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { WorkerError } from "../errors/index.js";
import { PROTOCOL_FIX, WORKER_PROTOCOL } from "./protocol-version.js";
import { WorkerClient, workerPackageRoot } from "./worker-client.js";

const FAKE = fileURLToPath(new URL("./testing/fake-worker.py", import.meta.url));

describe("WorkerClient", () => {
  it("handshakes with the real worker, answers ping and shuts down", async () => {
    const client = await WorkerClient.start({ python: "/usr/bin/python3", readyTimeoutMs: 60_000 });
    try {
      expect(client.ready).toMatchObject({ event: "ready", protocol: 1, cuda: false });
      expect(await client.call("ping")).toEqual({ pong: true });
      const err = await client.call("no_such_method").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerError);
      expect((err as WorkerError).code).toBe("WORKER_UNKNOWN_METHOD");
      expect(await client.call("ping")).toEqual({ pong: true });
    } finally {
      await client.close();
    }
    expect(client.alive).toBe(false);
  });

  it("reports a crash mid-request with the exit code and the last stderr lines", async () => {
    const client = await WorkerClient.start({ python: "/usr/bin/python3", args: [FAKE] });
    try {
      expect(await client.call("ping")).toEqual({ pong: true });
      const seen: string[] = [];
      const err = await client.call("crash", {}, (e) => seen.push(e.event)).catch((e: unknown) => e);
      expect(seen).toContain("progress");
      expect(err).toBeInstanceOf(WorkerError);
      const w = err as WorkerError;
      expect(w.code).toBe("WORKER_CRASHED");
      expect(w.message).toContain("exit code 3");
      expect(w.message).toContain("RuntimeError: simulated failure");
      expect(w.details).toEqual({
        exitCode: 3,
        signal: null,
        stderr: ["Traceback (most recent call last):", "RuntimeError: simulated failure"],
      });
      const again = await client.call("ping").catch((e: unknown) => e);
      expect((again as WorkerError).code).toBe("WORKER_CRASHED");
    } finally {
      await client.close();
    }
  });

  it("times out a worker that never says ready", async () => {
    const err = await WorkerClient.start({ python: "/usr/bin/python3", args: ["-c", "import time; time.sleep(30)"], readyTimeoutMs: 300 }).catch((e: unknown) => e);
    expect((err as WorkerError).code).toBe("WORKER_READY_TIMEOUT");
  });

  it("reports a worker that exits before ready", async () => {
    const err = await WorkerClient.start({ python: "/usr/bin/python3", args: ["-c", "import sys; print('boom', file=sys.stderr); sys.exit(2)"] }).catch((e: unknown) => e);
    expect((err as WorkerError).code).toBe("WORKER_CRASHED");
    expect((err as WorkerError).message).toContain("exit code 2");
    expect((err as WorkerError).message).toContain("boom");
  });

  it("sends its protocol version with every request", async () => {
    const client = await WorkerClient.start({ python: "/usr/bin/python3", args: [FAKE] });
    try {
      expect(await client.call("echo", { a: 1 })).toEqual({ request: { id: "r1", method: "echo", params: { a: 1 }, protocol: WORKER_PROTOCOL } });
    } finally {
      await client.close();
    }
  });

  it("refuses a worker that speaks another protocol version, and kills it", async () => {
    const err = await WorkerClient.start({ python: "/usr/bin/python3", args: [FAKE, "--protocol", "2"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    const w = err as WorkerError;
    expect({ code: w.code, message: w.message, fix: w.fix, details: w.details }).toEqual({
      code: "WORKER_PROTOCOL_MISMATCH",
      message: `tunekit_worker fake started by \`/usr/bin/python3 ${FAKE} --protocol 2\` (PYTHONPATH ${workerPackageRoot()}) speaks protocol 2; this tunekit speaks worker protocol 1`,
      fix: PROTOCOL_FIX,
      details: { workerProtocol: 2, clientProtocol: 1, workerVersion: "fake", python: "/usr/bin/python3" },
    });
  });

  it("refuses a worker whose ready event has no protocol version", async () => {
    const err = await WorkerClient.start({ python: "/usr/bin/python3", args: [FAKE, "--protocol", "none"] }).catch((e: unknown) => e);
    expect((err as WorkerError).code).toBe("WORKER_PROTOCOL_MISMATCH");
    expect((err as WorkerError).message).toContain("speaks no protocol version (ready said null)");
  });

  it("finds worker/ from the source tree", () => {
    expect(workerPackageRoot()).toBe(fileURLToPath(new URL("../../worker", import.meta.url)));
  });
});
