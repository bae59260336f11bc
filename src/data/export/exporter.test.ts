import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportRecords } from "./exporter.js";
import { fromArray } from "../testing/temp-workspace.js";
import type { DatasetRecord } from "../record.js";

const rec = (i: number, split?: string, role = "assistant") => ({
  messages: [{ role: "system", content: "Be brief." }, { role: "user", content: `q${i}` }, { role, content: `a${i}` }],
  metadata: { id: String(i), ...(split ? { split } : {}) },
}) as DatasetRecord;

describe("exportRecords", () => {
  it("writes one file per split with only passing records (bedrock shape)", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "tk-export-"));
    const records = [...Array.from({ length: 40 }, (_, i) => rec(i, "train")), rec(100, "val"), rec(101, "val", "user")];
    const report = await exportRecords(fromArray(records), { target: "bedrock", outDir, prefix: "support" });
    expect(report.files.map((f) => [f.split, f.path.slice(outDir.length + 1), f.records])).toEqual([
      ["train", "support-bedrock-train.jsonl", 40], ["val", "support-bedrock-val.jsonl", 1]]);
    expect({ skipped: report.skipped, byCode: report.skippedByCode }).toEqual({ skipped: 1, byCode: { DATA_BEDROCK_NOT_ALTERNATING: 1, DATA_BEDROCK_LAST_NOT_ASSISTANT: 1 } });
    const val = await readFile(join(outDir, "support-bedrock-val.jsonl"), "utf8");
    expect(val).toBe('{"system":"Be brief.","messages":[{"role":"user","content":"q100"},{"role":"assistant","content":"a100"}]}\n');
    expect(report.datasetIssues.map((i) => [i.split, i.code, i.severity])).toEqual([["val", "DATA_TOO_FEW_EXAMPLES", "warning"]]);
  });

  it("writes nothing when the training split breaks a dataset rule", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "tk-export-"));
    await expect(exportRecords(fromArray([rec(1), rec(2)]), { target: "openai", outDir, prefix: "x" })).rejects.toMatchObject({
      code: "DATA_EXPORT_INVALID", message: "train split: 2 valid examples; OpenAI requires at least 10" });
    expect(await readdir(outDir)).toEqual([]);
  });

  it("writes OpenAI chat lines without metadata", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "tk-export-"));
    await exportRecords(fromArray(Array.from({ length: 10 }, (_, i) => rec(i))), { target: "openai", outDir, prefix: "x" });
    const first = (await readFile(join(outDir, "x-openai-train.jsonl"), "utf8")).split("\n")[0];
    expect(JSON.parse(first!)).toEqual({ messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "q0" }, { role: "assistant", content: "a0" }] });
  });

  it("writes Nova's bedrock-conversation-2024 lines: system and content as text blocks", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "tk-export-"));
    await exportRecords(fromArray(Array.from({ length: 8 }, (_, i) => rec(i))), { target: "bedrock-nova", outDir, prefix: "x", model: "amazon.nova-lite-v1:0:300k" });
    const first = (await readFile(join(outDir, "x-bedrock-nova-train.jsonl"), "utf8")).split("\n")[0];
    expect(JSON.parse(first!)).toEqual({
      schemaVersion: "bedrock-conversation-2024",
      system: [{ text: "Be brief." }],
      messages: [{ role: "user", content: [{ text: "q0" }] }, { role: "assistant", content: [{ text: "a0" }] }],
    });
  });

  it("writes Llama prompt/completion lines with the system text before the prompt, skipping multi-turn records", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "tk-export-"));
    const multi = { messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }, { role: "assistant", content: "d" }], metadata: {} } as DatasetRecord;
    const report = await exportRecords(fromArray([rec(0), multi]), { target: "bedrock-llama", outDir, prefix: "x" });
    expect([report.exported, report.skippedByCode]).toEqual([1, { DATA_BEDROCK_MULTI_TURN: 1 }]);
    expect(await readFile(join(outDir, "x-bedrock-llama-train.jsonl"), "utf8")).toBe('{"prompt":"Be brief.\\n\\nq0","completion":"a0"}\n');
  });
});
