import { describe, expect, it } from "vitest";
import type { TextRecord } from "../record.js";
import { collect } from "../testing/temp-workspace.js";
import { applyLeakageCheck, planLeakageCheck } from "./index.js";

const doc = "customers can close their savings account online from the settings page or by visiting any branch with a valid photo id and a recent statement, and the remaining balance is moved to a current account of their choice within two working days";
const t = (id: string, split: string, text: string): TextRecord => ({ text, metadata: { id, split } });

describe("leakage check", () => {
  const records = [
    t("tr1", "train", doc),
    t("tr2", "train", "an unrelated note about card delivery times in europe and the united kingdom for new customers"),
    t("te1", "test", doc.replace("online", "digitally")),
    t("va1", "val", "an unrelated note about card delivery times in europe and the united kingdom for new customers"),
    t("tr3", "train", doc), // same split duplicate of tr1: not leakage on its own, but joins the cluster
  ];

  it("reports clusters spanning splits and drops the lower-priority copies", async () => {
    const plan = await planLeakageCheck(records);
    const kept = await collect(applyLeakageCheck(records, plan));
    expect(kept.map((r) => r.metadata?.id)).toEqual(["te1", "va1"]);
    const { reported, options, ...summary } = plan.report;
    expect(summary).toEqual({
      check: "leakage",
      records: 5,
      splits: { train: 3, test: 1, val: 1 },
      leakedClusters: 2,
      pairs: { "test~train": 1, "train~val": 1 },
      dropped: { train: 3 },
      resolved: true,
    });
    expect(options.priority).toEqual(["test", "val", "train"]);
    expect(reported.map((r) => ({ ids: r.ids, kept: r.kept, splits: r.splits }))).toEqual([
      { ids: ["te1", "tr1", "tr3"], kept: "te1", splits: ["train", "test"] },
      { ids: ["va1", "tr2"], kept: "va1", splits: ["train", "val"] },
    ]);
  });

  it("only reports when resolve is false, and honours a custom priority", async () => {
    const plan = await planLeakageCheck(records, { resolve: false, priority: ["train", "val", "test"] });
    expect((await collect(applyLeakageCheck(records, plan))).length).toBe(5);
    expect(plan.report.dropped).toEqual({});
    expect(plan.report.leakedClusters).toBe(2);
  });

  // Regression (issue #15): labels were compared raw, so "validation" and "val" copies counted as leakage
  // between two splits, and an unlabelled copy (which trains) formed a "(none)" split of its own.
  it("reads split labels by the one membership rule, priority names included", async () => {
    const mixed: TextRecord[] = [
      t("v1", "validation", doc), t("v2", "val", doc.replace("online", "digitally")),
      { text: "an unrelated note about card delivery times in europe and the united kingdom for new customers", metadata: { id: "u1" } },
      t("te1", "Test", "an unrelated note about card delivery times in europe and the united kingdom for new customers"),
    ];
    const plan = await planLeakageCheck(mixed, { priority: ["test", "validation", "train"] });
    const kept = await collect(applyLeakageCheck(mixed, plan));
    expect({ kept: kept.map((r) => r.metadata?.id), splits: plan.report.splits, dropped: plan.report.dropped, clusters: plan.report.leakedClusters })
      .toEqual({ kept: ["v1", "v2", "te1"], splits: { val: 2, train: 1, test: 1 }, dropped: { train: 1 }, clusters: 1 });
  });

  it("rejects bad options with DATA_LEAKAGE_OPTIONS", async () => {
    await expect(planLeakageCheck(records, { priority: ["test"] })).rejects.toMatchObject({ code: "DATA_LEAKAGE_OPTIONS" });
  });

  it("fails with DATA_LEAKAGE_TOO_MANY_SPLITS when the split field is an id", async () => {
    const many = Array.from({ length: 300 }, (_, i) => t(`r${i}`, `s${i}`, `text number ${i}`));
    await expect(planLeakageCheck(many)).rejects.toMatchObject({ code: "DATA_LEAKAGE_TOO_MANY_SPLITS" });
  });
});
