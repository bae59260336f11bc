import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTempWorkspace } from "../data/testing/temp-workspace.js";
import type { Workspace } from "../registry/index.js";
import { EventRecorder } from "./event-recorder.js";

describe("EventRecorder", () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await createTempWorkspace();
  });
  afterAll(async () => {
    await ws.close();
    rmSync(ws.root, { recursive: true, force: true });
  });

  it("records worker events in batches, in order, and flushes at a checkpoint", async () => {
    const run = await ws.registry.createRun({ kind: "train", config: {} });
    const recorder = new EventRecorder(ws.registry, run.id, { maxBatch: 1000, maxDelayMs: 60_000 });
    recorder.addWorkerEvent({ event: "progress", id: "r1", step: 1, total_steps: 2, epoch: 0.5, loss: 2.5, lr: 0.001, tokens_per_s: 100, eta_s: 1 });
    recorder.addWorkerEvent({ event: "metric", id: "r1", step: 1, name: "train/loss", value: 2.5 });
    recorder.addWorkerEvent({ event: "metric", id: "r1", step: 1, name: "val/loss", value: null }); // NaN on the wire: not recorded
    expect(await ws.registry.listRunEvents(run.id)).toEqual([]);
    recorder.addWorkerEvent({ event: "checkpoint", id: "r1", step: 1, path: "/x/step-1", best: true });
    await recorder.flush();
    const strip = (e: { type: string; step: number | null; name: string | null; value: number | null; data: unknown }) => ({ type: e.type, step: e.step, name: e.name, value: e.value, data: e.data });
    expect((await ws.registry.listRunEvents(run.id)).map(strip)).toEqual([
      { type: "progress", step: 1, name: null, value: null, data: { total_steps: 2, epoch: 0.5, loss: 2.5, lr: 0.001, tokens_per_s: 100, eta_s: 1 } },
      { type: "metric", step: 1, name: "train/loss", value: 2.5, data: null },
      { type: "checkpoint", step: 1, name: null, value: null, data: { path: "/x/step-1", best: true } },
    ]);
    recorder.addWorkerEvent({ event: "log", level: "stderr", message: "warning: x" });
    await recorder.close();
    expect((await ws.registry.listRunEvents(run.id, { type: "log" })).map(strip)).toEqual([{ type: "log", step: null, name: "stderr", value: null, data: { message: "warning: x" } }]);
  });
});
