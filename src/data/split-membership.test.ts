import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadExamples } from "../eval/index.js";
import type { Workspace } from "../registry/index.js";
import { countSplits } from "../train/index.js";
import { planLeakageCheck } from "./dedupe/index.js";
import { exportRecords } from "./export/exporter.js";
import type { DatasetRecord } from "./record.js";
import { canonicalSplit, isInSplit, splitKey, splitMembership, splitOf } from "./split-membership.js";
import { collect, createTempWorkspace, fromArray } from "./testing/temp-workspace.js";
import { commitVersion, readVersion } from "./versions.js";

describe("splitMembership", () => {
  it("folds aliases onto train/val/test, trains unlabelled records and keeps unknown labels out", () => {
    const labels = [undefined, null, "", "train", "Training", "val", "valid", "validation", "DEV", "test", "testing", "holdout"];
    expect(labels.map((split) => splitMembership(split === undefined ? {} : { split }))).toEqual([
      { split: "train", label: null }, { split: "train", label: null }, { split: "train", label: null },
      { split: "train", label: "train" }, { split: "train", label: "Training" },
      { split: "val", label: "val" }, { split: "val", label: "valid" }, { split: "val", label: "validation" }, { split: "val", label: "DEV" },
      { split: "test", label: "test" }, { split: "test", label: "testing" },
      { split: null, label: "holdout" },
    ]);
  });

  it("reads another field when asked, and no metadata at all as unlabelled", () => {
    expect([splitOf({ fold: "validation" }, "fold"), splitOf(undefined), canonicalSplit(" Test "), canonicalSplit("fold-1")]).toEqual(["val", "train", "test", undefined]);
  });

  it("matches a requested split by alias, an unknown label exactly, and everything for all", () => {
    const cases: [Record<string, unknown>, string][] = [[{ split: "validation" }, "val"], [{ split: "val" }, "valid"], [{}, "train"], [{}, "test"], [{ split: "holdout" }, "holdout"], [{ split: "holdout" }, "test"], [{ split: "x" }, "all"]];
    expect(cases.map(([m, wanted]) => isInSplit(m, wanted))).toEqual([true, true, true, false, true, false, true]);
  });

  it("names splits by their canonical name and unknown labels as written", () => {
    expect([splitKey({ split: "valid" }), splitKey({}), splitKey({ split: "holdout" })]).toEqual(["val", "train", "holdout"]);
  });
});

// Regression (issue #15): before the one rule, a "valid" record was val for `data compile`, trained on for the
// train spec check, its own "valid" file for export (so a hosted run got no validation file), a split of its
// own for the leakage check, and unlabelled records were train for training but not for few-shot pools.
describe("every stage reads one membership", () => {
  const rec = (id: string, split?: string): DatasetRecord => ({
    messages: [{ role: "user", content: `question ${id}` }, { role: "assistant", content: `answer ${id}` }],
    metadata: { id, ...(split === undefined ? {} : { split }) },
  }) as DatasetRecord;
  const records = [rec("a", "train"), rec("b"), rec("c", "valid"), rec("d", "validation"), rec("e", "test"), rec("f", "holdout")];
  let ws: Workspace;
  let outDir: string;
  beforeAll(async () => {
    ws = await createTempWorkspace();
    outDir = await mkdtemp(join(tmpdir(), "tk-membership-"));
    await commitVersion(ws, { dataset: "mixed", transform: "import", params: {}, records: fromArray(records) });
  });
  afterAll(async () => {
    await ws.close();
    await rm(outDir, { recursive: true, force: true });
  });

  it("train spec check, export, eval loading and the leakage check agree", async () => {
    const version = await ws.registry.resolveDatasetVersion("mixed");
    const ids = (examples: { id: string }[]) => examples.map((e) => e.id);
    const exported = await exportRecords(readVersion(ws, version), { target: "together", outDir, prefix: "mixed" });
    const valExamples = await loadExamples(ws, "mixed", "val", "train");
    const testExamples = await loadExamples(ws, "mixed", "test", "train");
    const leakage = await planLeakageCheck(await collect(readVersion(ws, version)));
    expect({
      spec: await countSplits(ws, version),
      exported: exported.files.map((f) => [f.split, f.records]),
      evalVal: ids(valExamples.test),
      evalTest: ids(testExamples.test),
      fewShotPool: ids(testExamples.train),
      evalSplitCounts: testExamples.splitCounts,
      leakageSplits: leakage.report.splits,
    }).toEqual({
      spec: { train: 1, val: 2, test: 1, unassigned: 1, unknown: 1 },
      exported: [["holdout", 1], ["test", 1], ["train", 2], ["val", 2]],
      evalVal: ["c", "d"],
      evalTest: ["e"],
      fewShotPool: ["a", "b"],
      evalSplitCounts: { train: 2, val: 2, test: 1, holdout: 1 },
      leakageSplits: { train: 2, val: 2, test: 1, holdout: 1 },
    });
  });
});
