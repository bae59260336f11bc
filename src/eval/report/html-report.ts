import type { LearningCurve } from "../curve/learning-curve.js";
import type { EvalSummary } from "../suite/summarize.js";
import { escapeHtml, inlineJson } from "../../report/index.js";
import { formatMetric, formatMs, formatUsd } from "./format-values.js";
import { truncationWarnings, type ReportMeta } from "./markdown-report.js";
import { barChart, lineChart, scatterChart } from "./svg-charts.js";
import { EXAMPLE_TABLE_SCRIPT, REPORT_CSS } from "./report-assets.js";
import { wordDiff } from "./word-diff.js";

/**
 * The self-contained HTML report: one file, inline CSS, inline SVG and vanilla JS, no network. Sections:
 * verdicts, metric bars with CIs, cost vs quality, confusion matrix, learning curve, and the example table
 * (outputs side by side, word diffs against the reference, search and filters).
 */
export interface ExampleRow {
  id: string;
  input: string;
  reference: string | null;
  candidates: Record<string, { output: string | null; error: { code: string; message: string } | null; scores: Record<string, number | null>; truncated?: boolean }>;
}

export const MAX_HTML_EXAMPLES = 2000;

function confusionTable(c: NonNullable<EvalSummary["candidates"][number]["confusion"]>): string {
  const max = Math.max(1, ...c.counts.flat());
  const head = c.predicted.map((p) => `<th class="rot"><span>${escapeHtml(p)}</span></th>`).join("");
  const rows = c.labels
    .map((l, i) => {
      const cells = c.counts[i]
        .map((n, j) => {
          const diag = c.predicted[j] === l;
          const alpha = n === 0 ? 0 : 0.15 + 0.85 * (n / max);
          return `<td style="background:rgba(${diag ? "22,163,74" : "220,38,38"},${alpha.toFixed(2)})" title="${escapeHtml(`${l} → ${c.predicted[j]}: ${n}`)}">${n || ""}</td>`;
        })
        .join("");
      return `<tr><th>${escapeHtml(l)}</th>${cells}</tr>`;
    })
    .join("");
  return `<div class="scroll"><table class="confusion"><tr><th>true \\ predicted</th>${head}</tr>${rows}</table></div>`;
}

export function renderHtml(meta: ReportMeta, summary: EvalSummary, rows: readonly ExampleRow[], curve?: LearningCurve, totalRows = rows.length): string {
  const names = summary.candidates.map((c) => c.name);
  const metricNames = Object.keys(summary.candidates[0]?.metrics ?? {});
  const bars = metricNames
    .map((m) => {
      const unit = summary.candidates[0].metrics[m].unit;
      return barChart(m, summary.candidates.map((c) => ({ label: c.name, ...c.metrics[m] })), unit);
    })
    .join("");
  const primary = summary.primaryMetric;
  const costPoints = summary.candidates
    .filter((c) => c.cost.costPerRequestUsd !== null && c.metrics[primary]?.value !== null && c.metrics[primary] !== undefined)
    .map((c) => ({ label: c.name, x: c.cost.costPerRequestUsd as number, y: c.metrics[primary].value as number }));
  const scatter = costPoints.length
    ? scatterChart(`Cost vs quality (${primary})`, costPoints, "cost per request (USD)", primary, summary.candidates[0].metrics[primary].unit, (v) => formatUsd(v))
    : `<p class="muted">No pricing given for any candidate, so there is no cost-vs-quality chart. Add pricing: {inputPerMTok, outputPerMTok} to candidates.</p>`;
  const confusion = summary.candidates
    .filter((c) => c.confusion && c.confusion.labels.length)
    .map((c) => `<details><summary>${escapeHtml(c.name)}</summary>${confusionTable(c.confusion!)}</details>`)
    .join("");
  const curveHtml = curve
    ? lineChart(`Learning curve (${curve.metric})`, curve.points.map((p) => ({ label: `${p.examples}`, x: p.examples, y: p.value })), curve.fit?.projections.map((p) => ({ label: `${p.examples}`, x: p.examples, y: p.value })) ?? [], "training examples", curve.metric, curve.unit) +
      (curve.fit ? `<p>${escapeHtml(curve.fit.summary)}</p>` : "")
    : "";
  const table = summary.candidates
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.name)}</td><td>${escapeHtml(c.prompt)}</td>${metricNames.map((m) => `<td>${formatMetric(c.metrics[m].value, c.metrics[m].unit)} <span class="muted">[${formatMetric(c.metrics[m].low, c.metrics[m].unit)}, ${formatMetric(c.metrics[m].high, c.metrics[m].unit)}]</span></td>`).join("")}<td>${c.failures}/${c.examples}</td><td>${c.truncated === undefined ? "–" : `${c.truncated}/${c.examples}`}</td><td>${formatMs(c.latency?.p50Ms)} / ${formatMs(c.latency?.p95Ms)}</td><td>${formatUsd(c.cost.costPerRequestUsd)}</td><td>${formatUsd(c.cost.costPerCorrectUsd)}</td><td>${c.cost.monthlyCostUsd === null ? "–" : formatUsd(c.cost.monthlyCostUsd)}</td></tr>`,
    )
    .join("");
  const shown = rows.slice(0, MAX_HTML_EXAMPLES).map((r) => ({
    id: r.id,
    input: r.input,
    reference: r.reference,
    c: names.map((n) => {
      const x = r.candidates[n];
      return { output: x?.output ?? null, error: x?.error?.message ?? null, truncated: x?.truncated === true, score: x?.scores[primary] ?? null, diff: r.reference !== null && x?.output ? wordDiff(r.reference, x.output) : null };
    }),
  }));
  const data = { names, primary, rows: shown };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(`Eval: ${meta.suite}`)}</title><style>${REPORT_CSS}</style></head>
<body>
<h1>Evaluation: ${escapeHtml(meta.suite)}</h1>
<p class="muted">Run ${escapeHtml(meta.runId)} · dataset ${escapeHtml(meta.dataset)} (${escapeHtml(meta.split)}, ${summary.examples} examples) · ${escapeHtml(meta.createdAt)}</p>
<section><h2>Verdict</h2>${summary.verdicts.length ? `<ul>${summary.verdicts.map((v) => `<li>${escapeHtml(v)}</li>`).join("")}</ul>` : `<p class="muted">One candidate: nothing to compare.</p>`}</section>
<section><h2>Candidates</h2><div class="scroll"><table class="summary"><tr><th>candidate</th><th>prompt</th>${metricNames.map((m) => `<th>${escapeHtml(m)}</th>`).join("")}<th>failures</th><th>truncated</th><th>latency p50 / p95</th><th>cost / request</th><th>cost / correct</th><th>monthly</th></tr>${table}</table></div>${truncationWarnings(summary).map((t) => `<p class="warn">${escapeHtml(t)}</p>`).join("")}</section>
<section><h2>Metrics</h2><div class="charts">${bars}</div></section>
<section><h2>Cost vs quality</h2>${scatter}</section>
${confusion ? `<section><h2>Confusion matrices</h2>${confusion}</section>` : ""}
${curveHtml ? `<section><h2>Learning curve</h2>${curveHtml}</section>` : ""}
<section><h2>Examples</h2>
<div class="filters"><input id="q" type="search" placeholder="search input, reference, outputs"> <label><input type="checkbox" id="disagree"> candidates disagree</label> <label><input type="checkbox" id="failed"> failures only</label> <label><input type="checkbox" id="truncated"> truncated only</label> <label>wrong for <select id="wrong"><option value="">(any)</option>${names.map((n, i) => `<option value="${i}">${escapeHtml(n)}</option>`).join("")}</select></label> <span id="count" class="muted"></span></div>
${totalRows > Math.min(rows.length, MAX_HTML_EXAMPLES) ? `<p class="muted">Showing the first ${Math.min(rows.length, MAX_HTML_EXAMPLES)} of ${totalRows} examples; all are in the run's eval-results artifact.</p>` : ""}
<div class="scroll"><table id="examples"><thead><tr><th>id</th><th>input</th><th>reference</th>${names.map((n) => `<th>${escapeHtml(n)}</th>`).join("")}</tr></thead><tbody></tbody></table></div>
</section>
<script type="application/json" id="data">${inlineJson(data)}</script>
<script>${EXAMPLE_TABLE_SCRIPT}</script>
</body></html>
`;
}
