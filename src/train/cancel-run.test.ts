import { describe, expect, it, vi } from "vitest";
import { ProviderError } from "../errors/index.js";
import type { FineTuneBackend } from "../providers/index.js";
import { currentOwner, initWorkspace, openWorkspace, type Workspace } from "../registry/index.js";
import { makeTempDir } from "../test-support/paths.js";
import { CANCEL_REQUESTED, SERVER_SUPERVISED, cancelRun, markServerSupervised } from "./cancel-run.js";

async function freshWorkspace(): Promise<Workspace> {
  const dir = makeTempDir();
  await initWorkspace(dir, { name: "t" });
  return openWorkspace({ dir, env: {} });
}

/** A backend whose provider refuses every cancel (a finished job, an expired key): nothing else is called. */
const refusing = {
  provider: "openai",
  cancel: async (jobId: string) => {
    throw new ProviderError("PROVIDER_REQUEST_FAILED", `openai refused to cancel ${jobId}: Job ${jobId} has already succeeded`, { fix: "check the job at the provider" });
  },
} as unknown as FineTuneBackend;

describe("cancelRun", () => {
  it("records the provider's refusal and leaves a hosted run as it was", async () => {
    const ws = await freshWorkspace();
    try {
      const run = await ws.registry.createRun({ kind: "train", backend: "openai", config: { spec: { provider: "openai", model: "gpt-4o-mini-2024-07-18", dataset: "d", epochs: 1, seed: 1, hosted: {} } } });
      await ws.registry.transitionRun(run.id, "running");
      await ws.registry.updateRun(run.id, { result: { provider: "openai", jobId: "ftjob-7", files: { training: "file-1" }, cursor: null, providerStatus: "running" } });
      await expect(cancelRun(ws, run.id, { backend: refusing })).rejects.toMatchObject({ code: "PROVIDER_REQUEST_FAILED" });
      expect((await ws.registry.getRun(run.id)).status).toBe("running");
      const logs = await ws.registry.listRunEvents(run.id, { type: "log" });
      expect(logs.map((e) => [e.name, e.data])).toEqual([["error", { message: "cancel refused by openai: openai refused to cancel ftjob-7: Job ftjob-7 has already succeeded", code: "PROVIDER_REQUEST_FAILED" }]]);
    } finally {
      await ws.close();
    }
  });

  it("cancels a stopped local run for good, and refuses a finished one", async () => {
    const ws = await freshWorkspace();
    try {
      const paused = await ws.registry.createRun({ kind: "train", backend: "local", config: {} });
      await ws.registry.transitionRun(paused.id, "running", { owner: currentOwner() });
      await ws.registry.transitionRun(paused.id, "paused");
      const out = await cancelRun(ws, paused.id);
      expect([out.action, out.run.status]).toEqual(["cancelled", "cancelled"]);
      const done = await ws.registry.createRun({ kind: "train", backend: "local", config: {} });
      await ws.registry.transitionRun(done.id, "running");
      await ws.registry.transitionRun(done.id, "succeeded");
      await expect(cancelRun(ws, done.id)).rejects.toMatchObject({ code: "RUN_ALREADY_FINISHED", message: `run ${done.id} is succeeded; there is nothing to cancel` });
    } finally {
      await ws.close();
    }
  });

  it("cancels a run a live server supervises through the registry, never by signalling the server", async () => {
    const ws = await freshWorkspace();
    const kill = vi.spyOn(process, "kill").mockImplementation(() => true);
    try {
      const run = await ws.registry.createRun({ kind: "train", backend: "local", config: {} });
      await markServerSupervised(ws, run.id, "the test server");
      await ws.registry.transitionRun(run.id, "running", { owner: currentOwner() });
      // The server's side: it acts on the recorded request (stop at a step, then cancel).
      const server = (async () => {
        while (!(await ws.registry.listRunEvents(run.id, { type: "log", name: CANCEL_REQUESTED })).length) await new Promise((r) => setTimeout(r, 20));
        await ws.registry.transitionRun(run.id, "interrupted");
        await ws.registry.transitionRun(run.id, "cancelled");
      })();
      const notes: string[] = [];
      const out = await cancelRun(ws, run.id, { note: (l) => notes.push(l) });
      await server;
      expect([out.action, out.run.status]).toEqual(["cancelled", "cancelled"]);
      expect(kill).not.toHaveBeenCalled();
      expect(notes).toEqual([`asking the test server (pid ${process.pid}) to stop and cancel ${run.id}…`]);
      const logs = await ws.registry.listRunEvents(run.id, { type: "log" });
      expect(logs.map((e) => e.name)).toEqual([SERVER_SUPERVISED, CANCEL_REQUESTED]);
    } finally {
      kill.mockRestore();
      await ws.close();
    }
  });

  it("a server that does not act in time: RUN_STILL_RUNNING, the request stays recorded", async () => {
    const ws = await freshWorkspace();
    const kill = vi.spyOn(process, "kill").mockImplementation(() => true);
    try {
      const run = await ws.registry.createRun({ kind: "train", backend: "local", config: {} });
      await markServerSupervised(ws, run.id, "the test server");
      await ws.registry.transitionRun(run.id, "running", { owner: currentOwner() });
      await expect(cancelRun(ws, run.id, { waitMs: 300 })).rejects.toMatchObject({ code: "RUN_STILL_RUNNING", message: `run ${run.id} did not stop within 0.3 s; its cancel request stays recorded and the test server acts on it` });
      expect(kill).not.toHaveBeenCalled();
      expect((await ws.registry.listRunEvents(run.id, { type: "log", name: CANCEL_REQUESTED })).length).toBe(1);
    } finally {
      kill.mockRestore();
      await ws.close();
    }
  });

  it("a mark left by another process does not count: the live CLI supervisor is signalled to pause", async () => {
    const ws = await freshWorkspace();
    const kill = vi.spyOn(process, "kill").mockImplementation(() => true);
    try {
      const run = await ws.registry.createRun({ kind: "train", backend: "local", config: {} });
      await ws.registry.appendRunEvents(run.id, [{ type: "log", name: SERVER_SUPERVISED, data: { message: "an old server", server: "old", pid: process.pid + 1, startTime: null, host: currentOwner().host } }]);
      await ws.registry.transitionRun(run.id, "running", { owner: currentOwner() });
      await expect(cancelRun(ws, run.id, { waitMs: 300 })).rejects.toMatchObject({ code: "RUN_STILL_RUNNING" });
      expect(kill.mock.calls.filter((c) => c[1] === "SIGINT")).toEqual([[process.pid, "SIGINT"]]);
    } finally {
      kill.mockRestore();
      await ws.close();
    }
  });
});
