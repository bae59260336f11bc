import { describe, expect, it } from "vitest";
import { readTableRows } from "./import/table-rows.js";
import type { DatasetRecord, TextRecord } from "./record.js";
import { applySplit, planSplit, splitDataset } from "./split.js";
import { BANKING77_CSV, collect, fromArray } from "./testing/temp-workspace.js";

const recs = (n: number, meta: (i: number) => Record<string, unknown> = () => ({})): TextRecord[] =>
  Array.from({ length: n }, (_, i) => ({ text: `record number ${i} with words ${i * 7919}`, metadata: { id: `r${i}`, ...meta(i) } }));

const splitsOf = async (records: TextRecord[], options: Parameters<typeof planSplit>[1]) => {
  const plan = await planSplit(records, options);
  return { plan, out: (await collect(applySplit(records, plan))) as TextRecord[] };
};

describe("planSplit", () => {
  it("splits 10 records 8/1/1, writes metadata.split, and is deterministic for a seed", async () => {
    const records = recs(10);
    const first = await splitsOf(records, { seed: 7 });
    const again = await splitsOf(records, { seed: 7 });
    expect(first.plan.report).toEqual({ transform: "split", prng: "sfc32", seed: 7, mode: "ratios", targets: { train: 8, val: 1, test: 1 }, counts: { train: 8, val: 1, test: 1 } });
    expect(again.out).toEqual(first.out);
    expect(first.out[0]).toEqual({ text: records[0].text, metadata: { id: "r0", split: first.out[0].metadata!.split } });
    const other = await splitsOf(records, { seed: 8 });
    expect(other.out.map((r) => r.metadata!.split)).not.toEqual(first.out.map((r) => r.metadata!.split));
  });

  it("keeps every group in one split", async () => {
    const records = recs(200, (i) => ({ customer: `c${i % 23}` }));
    const { out, plan } = await splitsOf(records, { groupBy: "customer", seed: 1 });
    const splitByGroup = new Map<string, Set<string>>();
    for (const r of out) {
      const set = splitByGroup.get(r.metadata!.customer as string) ?? new Set();
      set.add(r.metadata!.split as string);
      splitByGroup.set(r.metadata!.customer as string, set);
    }
    expect([...splitByGroup.values()].every((s) => s.size === 1)).toBe(true);
    expect(plan.report.groups).toEqual({ count: 23, largest: 9, missingKey: 0, mixedStrata: 0 });
    expect(plan.report.counts.val).toBeGreaterThan(0);
    expect(plan.report.counts.test).toBeGreaterThan(0);
  });

  it("keeps label proportions with stratification", async () => {
    const records = recs(100, (i) => ({ label: i < 80 ? "a" : "b" }));
    const { plan } = await splitsOf(records, { stratifyBy: "label", seed: 3 });
    expect(plan.report.strata).toEqual({ a: { train: 64, val: 8, test: 8 }, b: { train: 16, val: 2, test: 2 } });
    expect(plan.report.strataMissing).toBe(0);
  });

  it("splits by count", async () => {
    const { plan } = await splitsOf(recs(50), { counts: { val: 5, test: 10 } });
    expect(plan.report.counts).toEqual({ train: 35, val: 5, test: 10 });
    expect(plan.report.mode).toBe("counts");
  });

  it("fails with DATA_SPLIT_RATIOS when ratios do not sum to 1", async () => {
    await expect(planSplit(recs(3), { ratios: { train: 0.5, val: 0.1, test: 0.1 } })).rejects.toMatchObject({ code: "DATA_SPLIT_RATIOS" });
  });
  it("fails with DATA_SPLIT_COUNTS_EXCEED when counts exceed the records", async () => {
    await expect(planSplit(recs(3), { counts: { val: 2, test: 2 } })).rejects.toMatchObject({ code: "DATA_SPLIT_COUNTS_EXCEED" });
  });
  it("fails with DATA_SPLIT_FIELD_MISSING when no record has the stratify or group field", async () => {
    await expect(planSplit(recs(3), { stratifyBy: "label" })).rejects.toMatchObject({ code: "DATA_SPLIT_FIELD_MISSING" });
    await expect(planSplit(recs(3), { groupBy: "customer" })).rejects.toMatchObject({ code: "DATA_SPLIT_FIELD_MISSING" });
  });
  it("fails with DATA_SPLIT_EMPTY on no records", async () => {
    await expect(planSplit([], {})).rejects.toMatchObject({ code: "DATA_SPLIT_EMPTY" });
  });
  it("fails with DATA_SPLIT_OPTIONS on bad options", async () => {
    await expect(planSplit(recs(3), { field: "" })).rejects.toMatchObject({ code: "DATA_SPLIT_OPTIONS" });
  });
  it("fails with DATA_SPLIT_STREAM_CHANGED when the second pass differs", async () => {
    const plan = await planSplit(recs(5));
    await expect(collect(applySplit(recs(4), plan))).rejects.toMatchObject({ code: "DATA_SPLIT_STREAM_CHANGED" });
  });
});

describe("splitDataset", () => {
  it("runs the leakage check and removes train copies of test records", async () => {
    const dup = "the customer asked how to close a savings account and the agent explained the online steps in the app settings page";
    const records: TextRecord[] = [...recs(10), ...Array.from({ length: 40 }, (_, i) => ({ text: dup, metadata: { id: `d${i}` } }))];
    const run = await splitDataset(() => fromArray<DatasetRecord>(records), { seed: 5 });
    const out = await collect(run.records());
    const dupSplits = new Set(out.filter((r) => (r as TextRecord).text === dup).map((r) => r.metadata!.split));
    expect([...dupSplits]).toEqual(["test"]);
    expect(run.report.leakage!.leakedClusters).toBe(1);
    expect(run.report.final!.train + run.report.final!.val + run.report.final!.test).toBe(out.length);
  });

  it("stratifies banking77 by category within one record per class (real data)", async () => {
    const records: TextRecord[] = [];
    for await (const row of readTableRows({ kind: "csv", path: BANKING77_CSV })) if (row.values) records.push({ text: row.values.text, metadata: { category: row.values.category } });
    const { report } = await planSplit(records, { stratifyBy: "category", seed: 1 });
    expect(report.counts.train + report.counts.val + report.counts.test).toBe(records.length);
    // 77 intents in all; the report lists the 50 largest.
    expect([report.strataCount, Object.keys(report.strata!).length]).toEqual([77, 50]);
    for (const [label, c] of Object.entries(report.strata!)) {
      const total = c.train + c.val + c.test;
      expect(Math.abs(c.test - total * 0.1), label).toBeLessThanOrEqual(1);
      expect(Math.abs(c.val - total * 0.1), label).toBeLessThanOrEqual(1);
    }
  });
});
