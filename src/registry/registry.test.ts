import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { initWorkspace, openWorkspace } from "./index.js";
import { ConflictError, NotFoundError } from "../errors/index.js";
import { REPO_ROOT, makeTempDir } from "../test-support/paths.js";

async function freshWorkspace() {
  const dir = makeTempDir();
  await initWorkspace(dir, { name: "t" });
  return { dir, ws: await openWorkspace({ dir, env: {} }) };
}

function runChild(script: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", `${REPO_ROOT}/src/test-support/${script}`, ...args], { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code) => resolve(code));
  });
}

describe("registry", () => {
  it("keeps all 4,000 events written by 4 concurrent processes", async () => {
    const { dir, ws } = await freshWorkspace();
    const run = await ws.registry.createRun({ kind: "train", config: {} });
    const codes = await Promise.all([0, 1, 2, 3].map((i) => runChild("append-events.ts", [dir, run.id, "1000", String(i)])));
    expect(codes).toEqual([0, 0, 0, 0]);
    const events = await ws.registry.listRunEvents(run.id, { type: "metric" });
    expect(events).toHaveLength(4000);
    for (let i = 0; i < 4; i++) {
      const steps = events.filter((e) => e.name === `writer/${i}`).map((e) => e.step);
      expect(steps).toEqual(Array.from({ length: 1000 }, (_, k) => k));
    }
    await ws.close();
  }, 120_000);

  it("moves runs through the state machine and refuses illegal transitions", async () => {
    const { ws } = await freshWorkspace();
    const run = await ws.registry.createRun({ kind: "train", name: "r", config: { lr: 1 }, backend: "local" });
    expect(run.status).toBe("pending");
    const running = await ws.registry.transitionRun(run.id, "running");
    expect(running.startedAt).not.toBeNull();
    const interrupted = await ws.registry.transitionRun(run.id, "interrupted");
    expect(interrupted.endedAt).not.toBeNull();
    await ws.registry.transitionRun(run.id, "running");
    const done = await ws.registry.transitionRun(run.id, "succeeded", { result: { loss: 0.5 }, costUsd: 1.25 });
    expect([done.status, done.result, done.costUsd, done.endedAt !== null]).toEqual(["succeeded", { loss: 0.5 }, 1.25, true]);
    await expect(ws.registry.transitionRun(run.id, "running")).rejects.toThrow(ConflictError);
    const statuses = (await ws.registry.listRunEvents(run.id, { type: "status" })).map((e) => e.name);
    expect(statuses).toEqual(["running", "interrupted", "running", "succeeded"]);
    await expect(ws.registry.getRun("run_missing")).rejects.toThrow(NotFoundError);
    await ws.close();
  });

  it("numbers immutable dataset versions and resolves name, name@N and ids", async () => {
    const { ws } = await freshWorkspace();
    const ds = await ws.registry.createDataset({ name: "support" });
    const art = await ws.artifacts.putBytes('{"text":"a"}\n', { kind: "dataset", ext: "jsonl" });
    const v1 = await ws.registry.addDatasetVersion({ datasetId: ds.id, transform: "import", params: {}, sha256: art.sha256, artifactId: art.id, recordCount: 1 });
    const v2 = await ws.registry.addDatasetVersion({ datasetId: ds.id, parentId: v1.id, transform: "clean", params: { nfc: true }, sha256: art.sha256, artifactId: art.id, recordCount: 1 });
    expect([v1.number, v2.number, v2.parentId]).toEqual([1, 2, v1.id]);
    expect((await ws.registry.resolveDatasetVersion("support")).id).toBe(v2.id);
    expect((await ws.registry.resolveDatasetVersion("support@1")).id).toBe(v1.id);
    expect((await ws.registry.resolveDatasetVersion(v1.id)).params).toEqual({});
    await expect(ws.registry.resolveDatasetVersion("support@9")).rejects.toThrow('dataset "support" has no version 9');
    await expect(ws.registry.createDataset({ name: "support" })).rejects.toThrow(ConflictError);
    await ws.close();
  });

  it("records models with lineage", async () => {
    const { ws } = await freshWorkspace();
    const base = await ws.registry.createModel({ name: "stories", kind: "base", provider: "local", path: "/m" });
    const run = await ws.registry.createRun({ kind: "train", config: {} });
    const ft = await ws.registry.createModel({ name: "stories-ft", kind: "fine_tuned", provider: "local", baseModelId: base.id, runId: run.id });
    expect((await ws.registry.getModel("stories-ft")).baseModelId).toBe(base.id);
    expect((await ws.registry.listModels()).map((m) => m.id).sort()).toEqual([base.id, ft.id].sort());
    await ws.close();
  });
});
