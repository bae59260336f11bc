import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { INSTALL_FIX } from "./python.js";
import { startWorker } from "./worker-session.js";

const dir = mkdtempSync(join(tmpdir(), "tk-py-"));
// An interpreter whose torch import fails, as python3 without python3-torch does.
const noTorch = join(dir, "python-no-torch");
writeFileSync(noTorch, "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n");
chmodSync(noTorch, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("startWorker", () => {
  it("skips interpreters without torch and starts the first that has it", async () => {
    const worker = await startWorker({ worker: { python: noTorch, device: "auto", readyTimeoutMs: 60_000 } }, { discoveryEnv: {}, fallbacks: ["tk-no-such-python3", "/usr/bin/python3"] });
    try {
      expect(await worker.call("ping")).toEqual({ pong: true });
    } finally {
      await worker.close();
    }
  });

  it("lists every attempt when none has torch", async () => {
    const error = await startWorker({ worker: { python: noTorch, device: "auto", readyTimeoutMs: 60_000 } }, { discoveryEnv: {}, fallbacks: ["tk-no-such-python3"] }).catch((e: unknown) => e);
    expect((error as { toJSON(): unknown }).toJSON()).toEqual({
      code: "WORKER_PYTHON_NOT_FOUND",
      kind: "worker",
      message:
        "no Python with PyTorch found; tried:\n" +
        `  ${noTorch} (worker.python in tunekit.yaml): \`import torch\` failed: ModuleNotFoundError: No module named 'torch'\n` +
        "  tk-no-such-python3 (default): not found",
      fix: INSTALL_FIX,
      details: {
        tried: [
          { python: noTorch, source: "worker.python in tunekit.yaml", reason: "`import torch` failed: ModuleNotFoundError: No module named 'torch'" },
          { python: "tk-no-such-python3", source: "default", reason: "not found" },
        ],
      },
    });
  });
});
