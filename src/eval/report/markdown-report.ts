import type { EvalSummary } from "../suite/summarize.js";
import type { LearningCurve } from "../curve/learning-curve.js";
import { formatMetric, formatMs, formatUsd } from "./format-values.js";

/** The Markdown summary: verdicts first, then one table of numbers per candidate, then all comparisons. */
export interface ReportMeta {
  runId: string;
  suite: string;
  dataset: string;
  split: string;
  createdAt: string;
}

/** One line per candidate whose answers hit maxTokens: their scores judge cut-off text. */
export function truncationWarnings(summary: EvalSummary): string[] {
  return summary.candidates
    .filter((c) => (c.truncated ?? 0) > 0)
    .map((c) => `${c.name}: ${c.truncated} of ${c.examples} answers hit maxTokens and are truncated (finish reason "length"); raise the candidate's maxTokens or shorten the expected answer.`);
}

export function renderMarkdown(meta: ReportMeta, summary: EvalSummary, curve?: LearningCurve): string {
  const lines: string[] = [];
  lines.push(`# Evaluation: ${meta.suite}`, "");
  lines.push(`Run \`${meta.runId}\` · dataset ${meta.dataset} (${meta.split}, ${summary.examples} examples) · ${meta.createdAt}`, "");
  if (summary.verdicts.length) {
    lines.push(`## Verdict (${summary.primaryMetric})`, "");
    for (const v of summary.verdicts) lines.push(`- ${v}`);
    lines.push("");
  }
  const metricNames = Object.keys(summary.candidates[0]?.metrics ?? {});
  lines.push("## Candidates", "");
  lines.push(`| candidate | prompt | ${metricNames.join(" | ")} | failures | truncated | p50 latency | p95 latency | cost/request | cost/correct | monthly |`);
  lines.push(`|${"---|".repeat(metricNames.length + 9)}`);
  for (const c of summary.candidates) {
    const cells = metricNames.map((m) => {
      const v = c.metrics[m];
      return v.value === null ? "–" : `${formatMetric(v.value, v.unit)} [${formatMetric(v.low, v.unit)}, ${formatMetric(v.high, v.unit)}]`;
    });
    lines.push(
      `| ${c.name} | ${c.prompt} | ${cells.join(" | ")} | ${c.failures}/${c.examples} | ${c.truncated === undefined ? "–" : `${c.truncated}/${c.examples}`} | ${formatMs(c.latency?.p50Ms)} | ${formatMs(c.latency?.p95Ms)} | ${formatUsd(c.cost.costPerRequestUsd)} | ${formatUsd(c.cost.costPerCorrectUsd)} | ${c.cost.monthlyCostUsd === null ? "–" : `${formatUsd(c.cost.monthlyCostUsd)} at ${c.cost.monthlyVolume?.toLocaleString("en-US")}/month`} |`,
    );
  }
  lines.push("", "Values in brackets are 95% bootstrap confidence intervals.", "");
  const truncated = truncationWarnings(summary);
  if (truncated.length) lines.push("## Truncated answers", "", ...truncated.map((t) => `- ${t}`), "");
  const judged = summary.candidates.filter((c) => c.judge);
  if (judged.length) {
    lines.push("## Judge reliability", "");
    for (const c of judged) {
      const j = c.judge!;
      const pct = (v: number | null) => (v === null ? "–" : `${(v * 100).toFixed(0)}%`);
      lines.push(`- ${c.name}: repeat agreement ${pct(j.meanAgreement)}, position consistency ${pct(j.positionConsistency)}, agreement with ${j.humanLabelled} human labels ${pct(j.humanAgreement)}`);
    }
    lines.push("");
  }
  if (summary.comparisons.length) {
    lines.push("## Paired comparisons", "", "| A | B | metric | A − B | 95% CI | p | test |", "|---|---|---|---|---|---|---|");
    for (const c of summary.comparisons) {
      const f = (v: number) => (c.unit === "fraction" ? `${(v * 100).toFixed(1)} pts` : v.toFixed(2));
      lines.push(`| ${c.a} | ${c.b} | ${c.metric} | ${f(c.difference)} | [${f(c.low)}, ${f(c.high)}] | ${c.pValue < 0.001 ? "< 0.001" : c.pValue.toFixed(3)} | ${c.test} |`);
    }
    lines.push("");
  }
  if (curve) {
    lines.push("## Learning curve", "", "| train examples | " + curve.metric + " |", "|---|---|");
    for (const p of curve.points) lines.push(`| ${p.examples} | ${formatMetric(p.value, curve.unit)} |`);
    if (curve.fit) lines.push("", curve.fit.summary);
    lines.push("");
  }
  return lines.join("\n");
}
