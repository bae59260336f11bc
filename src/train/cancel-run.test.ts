import { describe, expect, it } from "vitest";
import { ProviderError } from "../errors/index.js";
import type { FineTuneBackend } from "../providers/index.js";
import { currentOwner, initWorkspace, openWorkspace, type Workspace } from "../registry/index.js";
import { makeTempDir } from "../test-support/paths.js";
import { cancelRun } from "./cancel-run.js";

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
});
