import { createReadStream, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Workspace } from "../../registry/index.js";
import { ConflictError, NotFoundError } from "../../errors/index.js";
import { writeFileAtomic } from "../../registry/index.js";
import type { LearningCurve } from "../curve/learning-curve.js";
import type { EvalSummary } from "../suite/summarize.js";
import { MAX_HTML_EXAMPLES, renderHtml, type ExampleRow } from "./html-report.js";
import { renderMarkdown, type ReportMeta } from "./markdown-report.js";

/** Writes report.html and summary.md for a finished eval run (default folder: <workspace>/reports/<run>/). */
export interface WrittenReport {
  html: string;
  markdown: string;
  summary: EvalSummary;
}

async function readRows(path: string, limit: number): Promise<{ rows: ExampleRow[]; total: number }> {
  const rows: ExampleRow[] = [];
  let total = 0;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    total += 1;
    if (rows.length < limit) rows.push(JSON.parse(line) as ExampleRow);
  }
  return { rows, total };
}

export async function writeEvalReport(ws: Workspace, runId: string, options: { outDir?: string; curve?: LearningCurve } = {}): Promise<WrittenReport> {
  const run = await ws.registry.getRun(runId);
  if (run.kind !== "eval" && run.kind !== "curve") {
    throw new NotFoundError("EVAL_NOT_AN_EVAL_RUN", `run ${runId} is a ${run.kind} run, not an eval run`, { fix: "pass the id of an eval run (tunekit runs list --kind eval)" });
  }
  if (run.status !== "succeeded" || !run.result) {
    throw new ConflictError("EVAL_RUN_NOT_FINISHED", `eval run ${runId} is ${run.status}; only a succeeded run has results to report`, {
      fix: run.status === "failed" || run.status === "interrupted" ? "rerun the eval (finished requests are cached, so it resumes quickly)" : "wait for it to finish",
    });
  }
  const result = run.result as unknown as EvalSummary & { resultsArtifactId: string; curve?: LearningCurve };
  const artifact = await ws.artifacts.getArtifact(result.resultsArtifactId);
  // Rows past the HTML limit are counted, not held in memory.
  const { rows, total } = await readRows(ws.artifacts.absolutePath(artifact), MAX_HTML_EXAMPLES);
  const config = run.config as { dataset?: { ref?: string; split?: string } };
  const meta: ReportMeta = { runId, suite: run.name ?? runId, dataset: config.dataset?.ref ?? "?", split: config.dataset?.split ?? "?", createdAt: run.createdAt };
  const curve = options.curve ?? result.curve;
  const outDir = resolve(options.outDir ?? join(ws.root, "reports", runId));
  mkdirSync(outDir, { recursive: true });
  const html = join(outDir, "report.html");
  const markdown = join(outDir, "summary.md");
  await writeFileAtomic(html, renderHtml(meta, result, rows, curve, total));
  await writeFileAtomic(markdown, renderMarkdown(meta, result, curve));
  return { html, markdown, summary: result };
}
