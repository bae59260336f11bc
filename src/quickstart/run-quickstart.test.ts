import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openWorkspace } from "../registry/index.js";
import { renderComparison } from "./comparison.js";
import { RecordingReporter } from "./reporter.js";
import { runQuickstart, type QuickstartResult } from "./run-quickstart.js";

// The whole quickstart in --fast mode (16 test examples, 12 training steps) with the real demo model, the real
// worker and a real registry: it checks what gets recorded, not how good a 12-step adapter is.
const dir = mkdtempSync(join(tmpdir(), "tk-quickstart-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("runQuickstart --fast", () => {
  let result: QuickstartResult;
  const reporter = new RecordingReporter();

  it("runs the lifecycle end to end", async () => {
    result = await runQuickstart({ dir, fast: true }, reporter);
    expect(result.comparison.map((r) => r.candidate)).toEqual(["base-zero-shot", "base-prompt", "fine-tuned"]);
  }, 600_000);

  it("records dataset versions, runs and the model in the registry", async () => {
    const ws = await openWorkspace({ dir });
    try {
      const versions = await ws.registry.listDatasetVersions((await ws.registry.getDataset("support")).id);
      expect(versions.map((v) => v.transform)).toEqual(["import", "clean", "dedupe", "pii", "split"]);
      expect(result.datasetVersions).toEqual({ import: "support@1", clean: "support@2", dedupe: "support@3", pii: "support@4", split: "support@5" });
      const runs = await ws.registry.listRuns({});
      expect(runs.map((r) => `${r.kind}:${r.status}`).sort()).toEqual(["eval:succeeded", "eval:succeeded", "quickstart:succeeded", "train:succeeded"]);
      const model = await ws.registry.getModel(result.modelName);
      expect(model).toMatchObject({ kind: "fine_tuned", runId: result.trainRunId, datasetVersionId: versions[4].id });
      const imported = versions[0].report as { rejected: number };
      expect(imported.rejected).toBe(2); // the malformed line and the empty reply
      expect((versions[2].report as { removed: { total: number } }).removed.total).toBeGreaterThanOrEqual(10);
      expect((versions[3].report as { findings: number }).findings).toBe(4);
    } finally {
      await ws.close();
    }
  });

  it("writes the report and the model card, and prints a three-way comparison", () => {
    for (const path of [result.report.html, result.report.markdown, result.modelCard.html, result.modelCard.markdown]) expect(existsSync(path), path).toBe(true);
    const table = renderComparison(result.comparison).split("\n");
    expect(table).toHaveLength(5);
    expect(table[0]).toContain("intent accuracy [95% CI]");
    expect(reporter.lines).toContain("== fine-tune with LoRA");
    expect(reporter.lines.some((l) => l.startsWith("train: 12/12"))).toBe(true);
  });
});
