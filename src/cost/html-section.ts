import { escapeHtml as esc } from "../report/index.js";
import type { CandidateEstimate, EstimateInput } from "./estimate.js";

/** An HTML <section> with the cost comparison, for the HTML reports to include. Self-contained, escaped. */
const money = (v: number | null) => (v === null ? "unknown" : `$${v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`);
const count = (v: number | null) => (v === null ? "—" : v.toLocaleString("en-US"));

export function renderCostSection(estimates: readonly CandidateEstimate[], input: EstimateInput): string {
  const w = input.workload;
  const rows = estimates
    .map((e) => {
      const flag = e.uncertain.length ? ` <span class="tk-uncertain" title="${esc(`not confirmed: ${e.uncertain.join(", ")}`)}">≈</span>` : "";
      return `<tr><td>${esc(e.provider)}</td><td>${esc(e.model)}</td><td>${esc(`${e.method}/${e.type}`)}</td><td class="num">${count(e.trainedTokens)}</td>` +
        `<td class="num">${money(e.training.costUsd)}${flag}</td><td class="num">${money(e.inference.baseMonthlyUsd)}</td><td class="num">${money(e.inference.fineTunedMonthlyUsd)}</td>` +
        `<td class="num">${money(e.inference.savingsMonthlyUsd)}</td><td class="num">${count(e.breakEvenRequestsPerMonth)}</td>` +
        `<td class="num">${e.paybackMonths === null ? "—" : esc(e.paybackMonths)}</td><td class="num">${e.roi === null ? "—" : `${esc(Math.round(e.roi * 100))}%`}</td></tr>`;
    })
    .join("\n");
  const notes = [...new Set(estimates.flatMap((e) => e.notes.map((n) => `${e.provider} ${e.model}: ${n}`)))].map((n) => `<li>${esc(n)}</li>`).join("");
  // Closing hosted paths first: a cost comparison for a path that stops taking jobs must say so where it is read.
  const warnings = [...new Set(estimates.flatMap((e) => e.warnings.map((x) => `${e.provider} ${e.model}: ${x}`)))].map((n) => `<li>${esc(n)}</li>`).join("");
  const sources = [...new Map(estimates.filter((e) => e.source).map((e) => [e.source!.url, e.source!.checkedOn])).entries()]
    .map(([url, date]) => `<li><a href="${esc(url)}">${esc(url)}</a> (checked ${esc(date)})</li>`).join("");
  return `<section class="tk-cost">
<h2>Cost and ROI</h2>
<p>${esc(count(input.trainingTokens))} training tokens × ${esc(input.epochs)} epochs; ${esc(count(w.requestsPerMonth))} requests/month;
base prompt ${esc(w.basePromptTokens)} tokens vs fine-tuned prompt ${esc(w.fineTunedPromptTokens)} tokens; ${esc(w.outputTokens)} output tokens;
data preparation ${esc(input.dataPrep.hours)} h × ${money(input.dataPrep.hourlyRate)}; horizon ${esc(input.months ?? 12)} months.</p>
<table>
<thead><tr><th>Provider</th><th>Model</th><th>Method</th><th>Trained tokens</th><th>Training</th><th>Base / month</th><th>Fine-tuned / month</th><th>Savings / month</th><th>Break-even requests / month</th><th>Payback (months)</th><th>ROI</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${warnings ? `<ul class="tk-warnings">${warnings}</ul>` : ""}
${notes ? `<ul class="tk-notes">${notes}</ul>` : ""}
<p class="tk-legend">≈ marks figures we could not confirm against the provider's page; override them under <code>cost.prices</code> in tunekit.yaml.</p>
${sources ? `<h3>Price sources</h3><ul>${sources}</ul>` : ""}
</section>`;
}
