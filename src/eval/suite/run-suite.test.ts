import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitVersion, type ChatRecord } from "../../data/index.js";
import { BANKING77_CSV, createTempWorkspace, fromArray } from "../../data/testing/temp-workspace.js";
import type { Workspace } from "../../registry/index.js";
import { writeEvalReport } from "../report/write-report.js";
import { startChatStub, type ChatStubServer } from "../testing/chat-stub-server.js";
import { parseEvalSuite } from "./suite-config.js";
import { runEvalSuite } from "./run-suite.js";

/**
 * banking77 end to end: a dataset version with train/test splits from the real fixture, two candidates on a
 * local chat-completions server that answers from a lookup (base right on ~60%, tuned on ~90%, some answers
 * in prose), the run recorded in the registry, a JSONL artifact and an HTML + Markdown report.
 */
const rows = (parse(readFileSync(BANKING77_CSV), { columns: true }) as { text: string; category: string }[]).slice(0, 600);
const bucket = (text: string) => createHash("sha256").update(text).digest()[0] / 256;
const isTest = (i: number) => i % 5 === 0;
const truth = new Map(rows.map((r) => [r.text, r.category]));
const wrongLabel = (label: string) => (label === "card_arrival" ? "card_linking" : "card_arrival");
function answer(model: string, text: string): string {
  const label = truth.get(text) ?? "unknown";
  const right = bucket(text) < (model === "tuned" ? 0.9 : 0.6);
  const out = right ? label : wrongLabel(label);
  return bucket(text) < 0.3 ? `The category is ${out.replaceAll("_", " ")}.` : out;
}

let ws: Workspace;
let server: ChatStubServer;
beforeAll(async () => {
  ws = await createTempWorkspace();
  const records: ChatRecord[] = rows.map((r, i) => ({
    messages: [
      { role: "user", content: r.text },
      { role: "assistant", content: r.category },
    ],
    metadata: { id: `b77-${i}`, split: isTest(i) ? "test" : "train" },
  }));
  await commitVersion(ws, { dataset: "banking77", transform: "import", params: {}, records: fromArray(records) });
  server = await startChatStub((req) => {
    const user = req.messages.at(-1)!.content.replace(/^Classify: /, "");
    return answer(req.model, user);
  });
});
afterAll(async () => {
  await server.close();
  await ws.close();
});

describe("eval suite on banking77", () => {
  it("runs, records the run, writes per-example results and a report", async () => {
    const suite = parseEvalSuite({
      name: "banking77-smoke",
      dataset: { version: "banking77" },
      candidates: [
        { name: "base", type: "openai", model: "base", baseURL: server.url, prompt: { system: "Answer with the label only.", template: "Classify: {{input}}", fewShot: { k: 3, seed: 1 } }, pricing: { inputPerMTok: 0.15, outputPerMTok: 0.6 } },
        { name: "tuned", type: "openai", model: "tuned", baseURL: server.url, prompt: { template: "Classify: {{input}}" }, pricing: { inputPerMTok: 0.3, outputPerMTok: 1.2 } },
      ],
      metrics: ["accuracy", "macro_f1", "exact_match"],
      volume: { requestsPerMonth: 100_000 },
      statistics: { resamples: 500 },
    });
    const outcome = await runEvalSuite(ws, suite, { baseDir: ws.root });
    const testRows = rows.filter((_, i) => isTest(i));
    const expected = (model: string) => testRows.filter((r) => bucket(r.text) < (model === "tuned" ? 0.9 : 0.6)).length / testRows.length;
    const [base, tuned] = outcome.summary.candidates;
    expect(base.examples).toBe(120);
    expect(base.metrics.accuracy.value).toBeCloseTo(expected("base"), 12);
    expect(tuned.metrics.accuracy.value).toBeCloseTo(expected("tuned"), 12);
    // Prose answers map through "label found in output"; exact match does not accept them.
    expect(tuned.metrics.exact_match.value!).toBeLessThan(tuned.metrics.accuracy.value!);
    expect(base.metrics.accuracy.low!).toBeLessThan(base.metrics.accuracy.value!);
    expect(tuned.cost.costPerCorrectUsd).toBeCloseTo(tuned.cost.totalCostUsd! / Math.round(expected("tuned") * 120), 12);
    expect(outcome.summary.verdicts[0]).toMatch(/^tuned beats base by \d+\.\d points accuracy, 95% CI \[\d+\.\d, \d+\.\d\], p (<|=) /);
    const cmp = outcome.summary.comparisons.find((c) => c.metric === "accuracy")!;
    expect(cmp.test).toBe("mcnemar-chi-square");

    const run = await ws.registry.getRun(outcome.runId);
    expect(run).toMatchObject({ kind: "eval", status: "succeeded", name: "banking77-smoke" });
    const cfg = run.config as { metrics: { name: string; version: string }[]; candidates: { name: string; prompt: string }[]; dataset: { ref: string } };
    expect(cfg.metrics.map((m) => m.name)).toEqual(["accuracy", "macro_f1", "exact_match"]);
    expect(cfg.candidates.map((c) => c.prompt)).toEqual(["system+few-shot(k=3,seed=1)+template", "template"]);
    expect(cfg.dataset.ref).toBe("banking77@1");
    const artifact = await ws.artifacts.getArtifact(outcome.resultsArtifactId);
    const lines = readFileSync(ws.artifacts.absolutePath(artifact), "utf8").trim().split("\n");
    expect(lines).toHaveLength(120);

    const report = await writeEvalReport(ws, outcome.runId);
    const html = readFileSync(report.html, "utf8");
    expect(html).toContain("tuned beats base by");
    expect(html).toContain('<table class="confusion">');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(readFileSync(report.markdown, "utf8")).toContain("| tuned | template |");

    // Rerun: every request is served from the cache.
    const calls = server.calls.length;
    const again = await runEvalSuite(ws, suite, { baseDir: ws.root });
    expect(server.calls.length).toBe(calls);
    expect(again.summary.candidates.map((c) => c.cached)).toEqual([120, 120]);
  });

  it("counts answers that hit maxTokens per candidate and flags them per example", async () => {
    const suite = parseEvalSuite({
      name: "banking77-truncation",
      dataset: { version: "banking77", limit: 20 },
      candidates: [{ name: "short", type: "openai", model: "base", baseURL: server.url, prompt: { template: "Classify: {{input}}" }, maxTokens: 3 }],
      metrics: ["accuracy"],
      statistics: { resamples: 100 },
    });
    const outcome = await runEvalSuite(ws, suite, { baseDir: ws.root });
    const testRows = rows.filter((_, i) => isTest(i)).slice(0, 20);
    // The stub answers in prose ("The category is …", > 3 words) for a third of the texts: those are cut at 3.
    const long = testRows.filter((r) => answer("base", r.text).split(/\s+/).length > 3).length;
    expect(long).toBeGreaterThan(0);
    expect(outcome.summary.candidates[0].truncated).toBe(long);
    const artifact = await ws.artifacts.getArtifact(outcome.resultsArtifactId);
    const flagged = readFileSync(ws.artifacts.absolutePath(artifact), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { candidates: { short: { truncated: boolean; finishReason: string } } });
    expect(flagged.filter((r) => r.candidates.short.truncated).length).toBe(long);
    expect(new Set(flagged.map((r) => r.candidates.short.finishReason))).toEqual(new Set(["stop", "length"]));
    const report = await writeEvalReport(ws, outcome.runId);
    expect(readFileSync(report.markdown, "utf8")).toContain(`- short: ${long} of 20 answers hit maxTokens and are truncated`);
  });

  it("reports every config problem at once", () => {
    let error: unknown;
    try {
      parseEvalSuite({ name: "x", dataset: {}, candidates: [{ name: "a", type: "openai" }, { name: "a", type: "local", modelDir: "m", prompt: { template: "no input" } }], metrics: ["acc"] });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "EVAL_CONFIG_INVALID" });
    const problems = (error as { details: { problems: { path: string }[] } }).details.problems.map((p) => p.path);
    expect(problems).toEqual(expect.arrayContaining(["dataset.version", "candidates[0].model", "metrics[0]"]));
  });
});

describe("eval suite with retrieval and an LLM judge", () => {
  it("puts BM25 passages in the prompt, judges pairwise against the baseline, records both", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const docs = mkdtempSync(join(ws.root, "docs-"));
    writeFileSync(join(docs, "cards.md"), "A new card arrives within 5 working days of ordering.");
    writeFileSync(join(docs, "fees.txt"), "Cash withdrawals above 200 a month carry a 2% fee.");
    const judgeServer = await startChatStub((req) => {
      const user = req.messages[1].content;
      // Prefers whichever response mentions "days", wherever it is shown: a position-consistent judge.
      const a = /Response A:\n([\s\S]*?)\n\nResponse B:/.exec(user)?.[1] ?? "";
      return a.includes("days") ? '{"winner": "A"}' : '{"winner": "B"}';
    });
    const ragServer = await startChatStub((req) => (req.messages[0].content.includes("5 working days") ? "within 5 working days" : "soon"));
    try {
      const suite = parseEvalSuite({
        name: "rag-judge",
        dataset: { version: "banking77", limit: 6 },
        candidates: [
          { name: "plain", type: "openai", model: "m", baseURL: ragServer.url },
          { name: "rag", type: "openai", model: "m", baseURL: ragServer.url, prompt: { system: "Answer briefly.", retrieval: { k: 1 } } },
        ],
        metrics: [{ type: "contains", value: "days", name: "mentions_days" }],
        retrieval: { documents: [docs] },
        judge: { model: "judge", baseURL: judgeServer.url, mode: "pairwise", rubric: "Prefer concrete answers.", repeats: 2, baseline: "plain" },
        statistics: { resamples: 200 },
      });
      const outcome = await runEvalSuite(ws, suite, { baseDir: ws.root });
      const rag = outcome.summary.candidates.find((c) => c.name === "rag")!;
      expect(rag.prompt).toBe("system+bm25(k=1)");
      expect(rag.metrics.mentions_days.value).toBe(1);
      expect(rag.metrics.judge_win_rate.value).toBe(1);
      expect(rag.judge).toEqual({ meanAgreement: 1, positionConsistency: 1, humanAgreement: null, humanLabelled: 0 });
      // 6 examples × 2 repeats × 2 orders for "rag" vs "plain"; "plain" is the baseline, so it is judged against nothing.
      expect(judgeServer.calls).toHaveLength(24);
      const run = await ws.registry.getRun(outcome.runId);
      expect((run.config as { metrics: { name: string; version: string }[] }).metrics[1].version).toMatch(/^llm_judge\/1 \(pairwise, n=2, /);
    } finally {
      await judgeServer.close();
      await ragServer.close();
    }
  });
});
