import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWorkspace, type Workspace } from "../registry/index.js";
import { startQueuedRun, startTrainRun } from "./local-run.js";
import { parseTrainSpec } from "./spec.js";
import { resolveTrainSpec } from "./spec-check.js";
import { BASE_SPEC, createStoriesWorkspace } from "./testing/train-fixtures.js";

describe("startTrainRun with several processes (DDP, gloo on CPU)", () => {
  let dir: string;
  let ws: Workspace;
  beforeAll(async () => {
    dir = await createStoriesWorkspace();
    ws = await openWorkspace({ dir });
  });
  afterAll(async () => {
    await ws.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("trains with two ranks: every step sees both ranks' batches, rank 0 reports", async () => {
    const spec = parseTrainSpec({ ...BASE_SPEC, name: "ddp", processes: 2, maxSteps: 3, eval: { everySteps: 3 } });
    const resolved = await resolveTrainSpec(ws, spec);
    const steps: number[] = [];
    const { run, model, result } = await startTrainRun(ws, resolved, { handleSignals: false, onProgress: (e) => steps.push(e.step) });
    expect(run.status).toBe("succeeded");
    expect(steps).toEqual([1, 2, 3]);
    expect(result).toMatchObject({ steps: 3, stopped: "completed" });
    // 3 steps × 2 ranks × 4 sequences, each one ~49-token story: twice what one process would see.
    expect(result!.tokens_trained).toBeGreaterThan(3 * 4 * 40 * 2);
    expect(model).toMatchObject({ name: "ddp", kind: "fine_tuned" });
    const val = await ws.registry.listRunEvents(run.id, { type: "metric", name: "val/loss" });
    expect(val.map((e) => e.step)).toEqual([3]);
  });
});

describe("startQueuedRun and the abort signal (the gateway's job queue)", () => {
  let dir: string;
  let ws: Workspace;
  beforeAll(async () => {
    dir = await createStoriesWorkspace();
    ws = await openWorkspace({ dir });
  });
  afterAll(async () => {
    await ws.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts a pending run; an abort stops it like Ctrl-C (interrupted, resumable); a started run is refused", async () => {
    const resolved = await resolveTrainSpec(ws, parseTrainSpec({ ...BASE_SPEC, name: "queued", maxSteps: 200 }));
    const pending = await ws.registry.createRun({ kind: "train", name: "queued", config: { ...resolved.spec, model: resolved.modelDir }, backend: "local", datasetVersionId: resolved.version.id });
    const abort = new AbortController();
    const { run, result } = await startQueuedRun(ws, pending.id, { handleSignals: false, signal: abort.signal, onProgress: (e) => e.step === 2 && abort.abort() });
    expect(run.status).toBe("interrupted");
    expect(result).toMatchObject({ stopped: "interrupted" });
    expect(result!.steps).toBeLessThan(200);
    await expect(startQueuedRun(ws, pending.id)).rejects.toMatchObject({
      code: "TRAIN_NOT_QUEUED",
      message: `run ${pending.id} is interrupted: a train run on local; only pending local training runs start`,
    });
  });
});
