import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commitVersion, type ChatRecord } from "../../data/index.js";
import { openWorkspace } from "../../registry/index.js";
import { BASE_SPEC, STORIES260K, createStoriesWorkspace, writeSpec } from "../../train/testing/train-fixtures.js";
import { parseEvalSuite } from "../suite/suite-config.js";
import { runLearningCurve } from "./run-curve.js";

/**
 * The learning curve end to end on the real stories260k model: nested subsample versions → LoRA training
 * runs through src/train → local-candidate evals with each adapter → a curve run and a report with the curve.
 */
const NAMES = ["Tom", "Lily", "Ben", "Mia", "Sam", "Anna", "Max", "Sue", "Tim", "Lucy"];
const THINGS = ["ball", "cat", "kite", "box"];

describe("eval curve", () => {
  it("trains on growing fractions, evaluates each and fits the curve", async () => {
    const dir = await createStoriesWorkspace();
    const ws = await openWorkspace({ dir });
    try {
      const records: ChatRecord[] = [];
      let i = 0;
      for (const name of NAMES) {
        for (const thing of THINGS) {
          const split = i % 5 === 4 ? "test" : i % 5 === 3 ? "val" : "train";
          records.push({ messages: [{ role: "user", content: `What did ${name} have?` }, { role: "assistant", content: `${name} had a ${thing}.` }], metadata: { id: `q${i}`, split } });
          i++;
        }
      }
      await commitVersion(ws, { dataset: "qa", transform: "import", params: {}, records: (async function* () { yield* records; })() });
      const trainSpec = writeSpec(dir, { ...BASE_SPEC, dataset: "qa", maxSteps: 3, eval: { everySteps: 3 }, checkpoint: { everySteps: 3, keepLast: 1 } });
      const suite = parseEvalSuite({
        name: "qa",
        dataset: { version: "qa", limit: 4 },
        candidates: [{ name: "stories", type: "local", modelDir: STORIES260K, maxTokens: 8, concurrency: 1 }],
        metrics: ["token_f1"],
        statistics: { resamples: 100 },
      });
      const outcome = await runLearningCurve(ws, { suite, baseDir: dir, trainSpecPath: trainSpec, fractions: [0.5, 1] });
      expect(outcome.curve.points.map((p) => [p.fraction, p.examples])).toEqual([
        [0.5, 12],
        [1, 24],
      ]);
      expect(outcome.curve.points.every((p) => Number.isFinite(p.value) && p.runId)).toBe(true);
      const curveRun = await ws.registry.getRun(outcome.runId);
      expect(curveRun).toMatchObject({ kind: "curve", status: "succeeded" });
      expect((await ws.registry.listRuns({ kind: "train" })).filter((r) => r.status === "succeeded")).toHaveLength(2);
      const evals = await ws.registry.listRuns({ kind: "eval" });
      expect(evals).toHaveLength(2);
      const cfg = evals[0].config as { candidates: { backend: { adapterDir: string | null } }[] };
      expect(cfg.candidates[0].backend.adapterDir).toMatch(/adapter/);
      expect(readFileSync(outcome.report, "utf8")).toContain("Learning curve");
      expect(outcome.report.startsWith(join(dir, "reports"))).toBe(true);
    } finally {
      await ws.close();
    }
  }, 300_000);
});
