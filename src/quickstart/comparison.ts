import type { EvalSummary } from "../eval/index.js";
import { CPU_HOURLY_USD } from "./options.js";

/** One row of the final table: what was measured for a candidate on the held-out test split. */
export interface ComparisonRow {
  candidate: string;
  prompt: string;
  intentAccuracy: { value: number | null; low: number | null; high: number | null };
  chrf: { value: number | null; low: number | null; high: number | null };
  p50LatencyMs: number | null;
  /** Local CPU time at CPU_HOURLY_USD per 1,000 requests. */
  costPer1kUsd: number | null;
}

/**
 * Rows of the comparison. Baselines are answered from the request cache in the comparison run; the summary
 * keeps the latency measured when those answers were generated (src/eval/suite/summarize.ts).
 */
export function comparisonRows(summary: EvalSummary): ComparisonRow[] {
  return summary.candidates.map((c) => {
    const pick = (name: string) => ({ value: c.metrics[name]?.value ?? null, low: c.metrics[name]?.low ?? null, high: c.metrics[name]?.high ?? null });
    const latency = c.latency?.meanMs ?? null;
    return {
      candidate: c.name,
      prompt: c.prompt,
      intentAccuracy: pick("intent_accuracy"),
      chrf: pick("chrf"),
      p50LatencyMs: c.latency?.p50Ms ?? null,
      costPer1kUsd: latency === null ? null : ((latency / 3_600_000) * CPU_HOURLY_USD) * 1000,
    };
  });
}

const pct = (v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(1)}%`);
const one = (v: number | null) => (v === null ? "—" : v.toFixed(1));

export function formatInterval(m: ComparisonRow["intentAccuracy"], f: (v: number | null) => string): string {
  return m.low === null || m.high === null ? f(m.value) : `${f(m.value)} [${f(m.low)}–${f(m.high)}]`;
}

/** Plain-text table (monospace), printed at the end of the quickstart. */
export function renderComparison(rows: readonly ComparisonRow[]): string {
  const header = ["candidate", "prompt", "intent accuracy [95% CI]", "chrF [95% CI]", "p50 latency", "cost / 1k req"];
  const body = rows.map((r) => [
    r.candidate,
    r.prompt,
    formatInterval(r.intentAccuracy, pct),
    formatInterval(r.chrf, one),
    r.p50LatencyMs === null ? "—" : `${Math.round(r.p50LatencyMs)} ms`,
    r.costPer1kUsd === null ? "—" : `$${r.costPer1kUsd.toFixed(4)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "─".repeat(w))), ...body.map(line)].join("\n");
}
