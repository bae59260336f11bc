import { binValues, escapeHtml, renderBarChart, renderHistogram, renderKeyValues, renderNotice, renderPage, renderSection, renderTable } from "../../report/index.js";
import type { DatasetStats } from "./collector.js";

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Terminal lines, most important first; warnings carry their guidance. */
export function renderStatsText(s: DatasetStats, title: string): string[] {
  const lines: string[] = [];
  const t = s.tokenizer.estimate ? " (estimate)" : ` (${s.tokenizer.name})`;
  lines.push(`${title}: ${s.records} records (chat ${s.kinds.chat}, text ${s.kinds.text}, preference ${s.kinds.preference})`);
  if (s.kinds.chat + s.kinds.preference > 0) lines.push(`turns per example: mean ${s.turns.mean}, p50 ${s.turns.p50}, max ${s.turns.max}`);
  lines.push(`tokens per example${t}: mean ${s.tokensPerExample.mean}, p50 ${s.tokensPerExample.p50}, p90 ${s.tokensPerExample.p90}, p99 ${s.tokensPerExample.p99}, max ${s.tokensPerExample.max}; total ${s.tokensPerExample.total}`);
  for (const [role, d] of Object.entries(s.tokensByRole)) lines.push(`  ${role.padEnd(9)} ${String(d.count).padStart(8)} messages, tokens mean ${d.mean}, p50 ${d.p50}, p90 ${d.p90}, max ${d.max}`);
  lines.push(`over the ${s.contextLimit}-token limit: ${s.overLimit}`);
  if (s.label) {
    const entries = Object.entries(s.label.counts);
    lines.push(`label "${s.label.field}": ${entries.length} values, imbalance ${s.label.imbalance}×${s.label.missing ? `, ${s.label.missing} missing` : ""}`);
    for (const [k, c] of entries.slice(0, 8)) lines.push(`  ${k.padEnd(32)} ${c}`);
    if (entries.length > 8) lines.push(`  … ${entries.length - 8} more`);
  }
  lines.push(`languages: ${Object.entries(s.languages).map(([l, c]) => `${l} ${c}`).join(", ")}`);
  if (s.duplicates) lines.push(`duplicates: ${pct(s.duplicates.rate)} (${s.duplicates.exact} exact, ${s.duplicates.near} near)`);
  if (s.pii) lines.push(`PII: ${pct(s.pii.rate)} of records (${Object.entries(s.pii.byType).filter(([, c]) => c > 0).map(([k, c]) => `${k} ${c}`).join(", ") || "none"})`);
  lines.push(`diversity: distinct-1 ${s.diversity.distinct1}, distinct-2 ${s.diversity.distinct2}`);
  if (s.diversity.topNgrams.length > 0) lines.push(`top ${s.diversity.n}-grams: ${s.diversity.topNgrams.slice(0, 5).map((g) => `"${g.ngram}" ${g.count}`).join(", ")}`);
  for (const w of s.warnings) lines.push(`${w.severity === "error" ? "error" : w.severity === "warn" ? "warning" : "note"}: ${w.message}\n  → ${w.guidance}`);
  return lines;
}

/** A self-contained HTML report (inline SVG charts, no scripts). */
export function renderStatsHtml(s: DatasetStats, title: string, generatedAt = new Date().toISOString()): string {
  const t = s.tokenizer.estimate ? "tokens (estimate: chars/4)" : `tokens (${s.tokenizer.name})`;
  const sections: string[] = [];
  if (s.warnings.length > 0) {
    sections.push(renderSection("Warnings", ...s.warnings.map((w) => renderNotice(w.severity, `<b>${escapeHtml(w.message)}</b><br>${escapeHtml(w.guidance)}`))));
  }
  sections.push(
    renderSection(
      "Overview",
      renderKeyValues([
        { label: "records", value: s.records },
        { label: "chat / text / preference", value: `${s.kinds.chat} / ${s.kinds.text} / ${s.kinds.preference}` },
        { label: `mean ${t}`, value: s.tokensPerExample.mean },
        { label: `total ${t}`, value: s.tokensPerExample.total },
        { label: `over ${s.contextLimit} tokens`, value: s.overLimit },
        { label: "duplicate rate", value: s.duplicates ? pct(s.duplicates.rate) : "not measured" },
        { label: "PII rate", value: s.pii ? pct(s.pii.rate) : "not measured" },
        { label: "distinct-1 / distinct-2", value: `${s.diversity.distinct1} / ${s.diversity.distinct2}` },
      ]),
    ),
  );
  sections.push(
    renderSection(
      "Length",
      renderHistogram(binValues(s.exampleTokens, 30, s.tokensPerExample.p99 > 0 ? Math.max(s.tokensPerExample.p99, Math.min(s.contextLimit, s.tokensPerExample.max)) : undefined), {
        title: `${t} per example (last bin includes everything above p99)`,
        marker: { at: s.contextLimit, label: `limit ${s.contextLimit}` },
      }),
      renderTable(
        Object.entries(s.tokensByRole).map(([role, d]) => ({ role, messages: d.count, mean: d.mean, p50: d.p50, p90: d.p90, p99: d.p99, max: d.max })),
        [
          { key: "role", label: "role" },
          { key: "messages", label: "messages", numeric: true },
          { key: "mean", label: "mean", numeric: true },
          { key: "p50", label: "p50", numeric: true },
          { key: "p90", label: "p90", numeric: true },
          { key: "p99", label: "p99", numeric: true },
          { key: "max", label: "max", numeric: true },
        ],
      ),
    ),
  );
  if (s.label) {
    const bars = Object.entries(s.label.counts).map(([label, value]) => ({ label, value }));
    sections.push(renderSection(`Label balance (${s.label.field})`, renderBarChart(bars.slice(0, 100), { title: `${bars.length} values, largest/smallest ${s.label.imbalance}×${bars.length > 100 ? " (top 100 shown)" : ""}` })));
  }
  sections.push(renderSection("Languages", renderBarChart(Object.entries(s.languages).map(([label, value]) => ({ label, value })), { color: "#3a9a6b" })));
  if (s.pii) sections.push(renderSection("PII and secrets (findings by type)", renderBarChart(Object.entries(s.pii.byType).map(([label, value]) => ({ label, value })), { color: "#c0622b" })));
  if (s.diversity.topNgrams.length > 0) {
    sections.push(renderSection(`Most frequent ${s.diversity.n}-grams`, renderBarChart(s.diversity.topNgrams.map((g) => ({ label: g.ngram, value: g.count })), { color: "#7a5cc7" })));
  }
  return renderPage({ title, subtitle: `${s.records} records · ${t}`, generatedAt }, sections);
}
