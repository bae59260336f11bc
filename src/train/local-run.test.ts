import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWorkspace, type Workspace } from "../registry/index.js";
import { startTrainRun } from "./local-run.js";
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
