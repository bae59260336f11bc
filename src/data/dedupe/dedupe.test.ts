import { describe, expect, it } from "vitest";
import { readTableRows } from "../import/table-rows.js";
import type { ChatRecord, DatasetRecord } from "../record.js";
import { BANKING77_CSV, collect } from "../testing/temp-workspace.js";
import { applyDedupe, normaliseText, planDedupe, recordText } from "./index.js";

const chat = (id: string, user: string, assistant: string, system?: string): ChatRecord => ({
  messages: [...(system ? [{ role: "system" as const, content: system }] : []), { role: "user", content: user }, { role: "assistant", content: assistant }],
  metadata: { id },
});

const base = "the quick brown fox jumps over the lazy dog near the river bank while the sun sets slowly behind the old mill and the birds sing";

describe("normaliseText", () => {
  it("applies NFC, lower case and collapsed whitespace", () => {
    expect(normaliseText("  Cafe\u0301   OK\n\tNow ")).toBe("café ok now");
  });
});

describe("recordText", () => {
  it("leaves system messages out by default and keeps roles", () => {
    expect(recordText(chat("a", "hi", "hello", "be nice"))).toBe("user: hi\nassistant: hello");
    expect(recordText(chat("a", "hi", "hello", "be nice"), { includeSystem: true })).toBe("system: be nice\nuser: hi\nassistant: hello");
    expect(recordText({ text: "doc" })).toBe("doc");
  });
});

describe("planDedupe + applyDedupe", () => {
  const records: DatasetRecord[] = [
    chat("a", "How do I reset my password?", base),
    chat("b", "how do i   RESET my password?", base.toUpperCase()), // exact after normalisation
    chat("c", "How do I reset my password?", base.replace("lazy", "sleepy")), // near: one word
    chat("d", "What is the weather today?", "It is sunny with a light breeze from the west and no rain expected."),
    { text: "a completely different document about tax forms and filing deadlines in the spring" },
  ];

  it("removes exact and near duplicates, keeps the first, reports the cluster", async () => {
    const plan = await planDedupe(records, { maxClustersReported: 5 });
    const kept = await collect(applyDedupe(records, plan));
    expect(kept.map((r) => ("metadata" in r && r.metadata ? r.metadata.id : "text"))).toEqual(["a", "d", "text"]);
    expect(plan.report.removed).toEqual({ exact: 1, near: 1, total: 2 });
    expect(plan.report.clusters).toEqual({ total: 1, exact: 0, near: 1, largest: 3 });
    expect(plan.report.reported).toHaveLength(1);
    const cluster = plan.report.reported[0];
    expect({ ...cluster, samples: cluster.samples.map((s) => s.id), similarity: undefined }).toEqual({
      cluster: 0,
      kind: "near",
      size: 3,
      ids: ["a", "b", "c"],
      kept: "a",
      similarity: undefined,
      samples: ["a", "b", "c"],
    });
    expect(cluster.similarity.min).toBeGreaterThanOrEqual(0.8);
    expect(cluster.similarity.max).toBe(1);
  });

  it("keeps the longest member when asked", async () => {
    const longer = [chat("short", "q", base), chat("long", "q", `${base} extra`)];
    const plan = await planDedupe(longer, { keep: "longest" });
    expect((await collect(applyDedupe(longer, plan))).map((r) => (r as ChatRecord).metadata?.id)).toEqual(["long"]);
  });

  it("does only exact dedupe when near is off", async () => {
    const plan = await planDedupe(records, { near: false });
    expect(plan.report.removed).toEqual({ exact: 1, near: 0, total: 1 });
  });

  it("rejects bad options with DATA_DEDUPE_OPTIONS listing every problem", async () => {
    await expect(planDedupe(records, { threshold: 2, ngram: 0 })).rejects.toMatchObject({
      code: "DATA_DEDUPE_OPTIONS",
      details: { problems: [expect.stringContaining("threshold"), expect.stringContaining("ngram")] },
    });
  });

  it("fails with DATA_DEDUPE_STREAM_CHANGED when the second pass differs", async () => {
    const plan = await planDedupe(records);
    await expect(collect(applyDedupe(records.slice(0, 3), plan))).rejects.toMatchObject({ code: "DATA_DEDUPE_STREAM_CHANGED" });
  });

  it("finds exactly the normalised duplicates of banking77 (real data)", async () => {
    const texts: string[] = [];
    for await (const row of readTableRows({ kind: "csv", path: BANKING77_CSV })) if (row.values) texts.push(row.values.text);
    const recs = texts.map((t) => ({ text: t }));
    const plan = await planDedupe(recs, { near: false });
    const distinct = new Set(texts.map(normaliseText)).size;
    expect(plan.report.kept).toBe(distinct);
    expect(plan.report.input).toBe(10003);
    const near = await planDedupe(recs);
    expect(near.report.kept).toBeLessThanOrEqual(distinct);
  });
});
