import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../registry/index.js";
import type { Workspace } from "../registry/index.js";
import { escapeHtml, renderKeyValues, renderNotice, renderPage, renderSection } from "./html.js";
import { collectModelCard, type CardEval, type CurvePoint, type ModelCardData } from "./model-card-data.js";

/**
 * The model card of a fine-tuned model, in Markdown (README-style, for the model folder or a PR) and
 * self-contained HTML (inline SVG training curves): base model, data and its hash, split seed, resolved
 * hyperparameters, training curves, evaluation results with 95% CIs against the base and prompt baselines,
 * cost, intended use and limits. Everything comes from the registry; nothing is typed in by hand.
 */
export interface WrittenModelCard {
  markdown: string;
  html: string;
  data: ModelCardData;
}

export async function writeModelCard(ws: Workspace, runRef: string, options: { outDir?: string } = {}): Promise<WrittenModelCard> {
  const data = await collectModelCard(ws, runRef);
  const outDir = resolve(options.outDir ?? join(ws.root, "reports", "model-cards", data.model.name));
  mkdirSync(outDir, { recursive: true });
  const markdown = join(outDir, "MODEL_CARD.md");
  const html = join(outDir, "model-card.html");
  await writeFileAtomic(markdown, renderModelCardMarkdown(data));
  await writeFileAtomic(html, renderModelCardHtml(data));
  return { markdown, html, data };
}

const HYPERPARAMETERS: [string, (h: Record<string, any>) => unknown][] = [
  ["method", (h) => h.method],
  ["LoRA r / alpha / dropout", (h) => (h.method === "lora" ? `${h.lora?.r} / ${h.lora?.alpha} / ${h.lora?.dropout}${h.lora?.useRslora ? " (rsLoRA)" : ""}` : "—")],
  ["LoRA target modules", (h) => (h.method === "lora" ? (h.lora?.targetModules ?? []).join(", ") : "—")],
  ["learning rate", (h) => h.optimizer?.lr],
  ["schedule", (h) => `${h.schedule?.type}, warmup ${h.schedule?.warmupSteps} steps, min lr ×${h.schedule?.minLrRatio}`],
  ["batch size × grad accumulation", (h) => `${h.batchSize} × ${h.gradAccum}`],
  ["epochs / max steps", (h) => `${h.epochs} / ${h.maxSteps ?? "—"}`],
  ["sequence length", (h) => `${h.seqLen}${h.packing ? " (packed)" : ""}`],
  ["trained on", (h) => `${h.trainOn} tokens`],
  ["weight decay / max grad norm", (h) => `${h.optimizer?.weightDecay} / ${h.maxGradNorm ?? "—"}`],
  ["seed / device / dtype", (h) => `${h.seed} / ${h.device} / ${h.dtype}`],
];

const fmt = (v: number | null | undefined, unit: string) =>
  v === null || v === undefined ? "—" : unit === "fraction" ? `${(v * 100).toFixed(1)}%` : v.toFixed(unit === "score100" ? 1 : 3);

function metricCell(m: { value: number | null; low: number | null; high: number | null; unit: string } | undefined): string {
  if (!m) return "—";
  return m.low === null || m.high === null ? fmt(m.value, m.unit) : `${fmt(m.value, m.unit)} [${fmt(m.low, m.unit)}, ${fmt(m.high, m.unit)}]`;
}

function evalTable(e: CardEval): { header: string[]; rows: string[][] } {
  const metrics = [...new Set(e.candidates.flatMap((c) => Object.keys(c.metrics)))];
  metrics.sort((a, b) => (a === e.primaryMetric ? -1 : b === e.primaryMetric ? 1 : 0));
  const header = ["candidate", "prompt", ...metrics.map((m) => `${m} (95% CI)`), "p50 latency", "cost / 1k requests"];
  const rows = e.candidates.map((c) => [
    `${c.name}${c.isModel ? " (this model)" : ""}`,
    c.prompt,
    ...metrics.map((m) => metricCell(c.metrics[m])),
    c.latencyMs === null ? "—" : `${Math.round(c.latencyMs)} ms`,
    c.costUsd === null ? "—" : `$${(c.costUsd * 1000).toFixed(4)}`,
  ]);
  return { header, rows };
}

function mdTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  return [`| ${header.map(esc).join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}

function summaryLines(d: ModelCardData): [string, string][] {
  const r = d.result as { steps?: number; total_steps?: number; best_val_loss?: number | null; best_step?: number | null; final_train_loss?: number | null; tokens_trained?: number; trainable_parameters?: number; exported_step?: number };
  return [
    ["model", `${d.model.name} (${d.model.id}), ${d.model.kind}, ${d.model.provider}`],
    ["weights", d.model.path ?? "—"],
    ["base model", d.base ? `${d.base.name} (${d.base.path ?? d.base.providerModelId ?? d.base.id})` : "—"],
    ["training run", `${d.run.id}, ${d.run.backend ?? "local"}, ${d.run.status}`],
    ["dataset", `${d.version.datasetName}@${d.version.number} (${d.version.id}), ${d.version.recordCount} records`],
    ["dataset sha256", d.version.sha256],
    ["split", `seed ${d.splitSeed ?? "—"}${d.splitCounts ? `: ${Object.entries(d.splitCounts).map(([k, v]) => `${k} ${v}`).join(", ")}` : ""}`],
    ["steps", `${r.steps ?? "?"} of ${r.total_steps ?? "?"}; adapter exported at step ${r.exported_step ?? "?"}`],
    ["tokens trained", `${(r.tokens_trained ?? 0).toLocaleString("en-US")} (${(r.trainable_parameters ?? 0).toLocaleString("en-US")} trainable parameters)`],
    ["losses", `final train ${r.final_train_loss?.toFixed(4) ?? "—"}, best val ${r.best_val_loss?.toFixed(4) ?? "—"} at step ${r.best_step ?? "—"}`],
    ["training cost", `${d.trainingSeconds === null ? "?" : `${d.trainingSeconds.toFixed(0)} s wall`} on ${String(d.hyperparameters.device ?? "?")}${d.run.costUsd ? `, $${d.run.costUsd.toFixed(4)}` : " (local hardware, no bill)"}`],
  ];
}

const INTENDED_USE = [
  "Intended use: drafting replies in the style and for the tasks of the training data, reviewed by a person, and as a measured baseline for the next dataset version.",
  "Limits: it learned only what the training split shows; inputs unlike it (other intents, languages, long conversations) are out of scope and may get a confident, wrong reply. The evaluation below covers the held-out test split only, and its CIs say how much that can move.",
  "Check before use: the base model's own card (data, license, known failure modes) applies to this model too.",
];

export function renderModelCardMarkdown(d: ModelCardData): string {
  const parts = [`# Model card: ${d.model.name}`, "", "Generated by `tunekit model card` from the registry.", "", "## Summary", ""];
  parts.push(mdTable(["", ""], summaryLines(d).map(([k, v]) => [k, v])), "", "## Data lineage", "");
  parts.push(mdTable(["version", "transform", "records", "sha256"], d.lineage.map((l) => [`${d.version.datasetName}@${l.number}`, l.transform, String(l.records), l.sha256.slice(0, 16)])));
  parts.push("", "## Hyperparameters (resolved)", "", mdTable(["", ""], HYPERPARAMETERS.map(([k, f]) => [k, String(f(d.hyperparameters) ?? "—")])));
  parts.push("", "## Training curves", "");
  for (const [name, points] of Object.entries(d.curves)) if (points.length) parts.push(`- ${name}: ${curveText(points)}`);
  parts.push("", "## Evaluation", "");
  if (d.evals.length === 0) parts.push("No evaluation references this model yet: run `tunekit eval run` with it as a candidate, then regenerate the card.");
  for (const e of d.evals) {
    const t = evalTable(e);
    parts.push(`### ${e.name} (${e.runId}): ${e.dataset}, split ${e.split}, ${e.examples} examples`, "", mdTable(t.header, t.rows), "");
    for (const v of e.verdicts) parts.push(`- ${v}`);
    parts.push("");
  }
  parts.push("## Intended use and limits", "", ...INTENDED_USE.map((l) => `- ${l}`), "");
  return parts.join("\n");
}

function curveText(points: readonly CurvePoint[]): string {
  const pick = points.length <= 6 ? points : [0, 0.2, 0.4, 0.6, 0.8, 1].map((f) => points[Math.round(f * (points.length - 1))]);
  return pick.map((p) => `step ${p.step}: ${p.value.toPrecision(4)}`).join(" → ");
}

/** Loss curves as one inline SVG line chart (train and val on the same axes). */
export function renderCurvesSvg(series: Record<string, readonly CurvePoint[]>, width = 640, height = 240): string {
  const entries = Object.entries(series).filter(([, p]) => p.length > 0);
  if (entries.length === 0) return "<p>No metric events were recorded.</p>";
  const all = entries.flatMap(([, p]) => p);
  const [x0, x1] = [Math.min(...all.map((p) => p.step)), Math.max(...all.map((p) => p.step))];
  const [y0, y1] = [Math.min(0, ...all.map((p) => p.value)), Math.max(...all.map((p) => p.value))];
  const pad = { l: 44, r: 12, t: 12, b: 28 };
  const sx = (x: number) => pad.l + ((x - x0) / Math.max(1e-9, x1 - x0)) * (width - pad.l - pad.r);
  const sy = (y: number) => height - pad.b - ((y - y0) / Math.max(1e-9, y1 - y0)) * (height - pad.t - pad.b);
  const colors = ["#1e6fd9", "#d9480f", "#2b8a3e"];
  const lines = entries.map(([name, p], i) => {
    const d = p.map((q, k) => `${k ? "L" : "M"}${sx(q.step).toFixed(1)},${sy(q.value).toFixed(1)}`).join("");
    return `<path d="${d}" fill="none" stroke="${colors[i % 3]}" stroke-width="2"/><text x="${width - pad.r - 90}" y="${pad.t + 14 * (i + 1)}" fill="${colors[i % 3]}">${escapeHtml(name)}</text>`;
  });
  const ticks = [y0, (y0 + y1) / 2, y1].map((y) => `<text x="4" y="${sy(y) + 4}">${y.toPrecision(3)}</text>`);
  const axes = `<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="#8a94a6"/><text x="${pad.l}" y="${height - 8}">step ${x0}</text><text x="${width - pad.r - 60}" y="${height - 8}">step ${x1}</text>`;
  return `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="training curves">${axes}${ticks.join("")}${lines.join("")}</svg>`;
}

function htmlTable(header: string[], rows: string[][]): string {
  return `<table><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
}

export function renderModelCardHtml(d: ModelCardData): string {
  const r = d.result as { best_val_loss?: number | null; steps?: number };
  const sections = [
    renderKeyValues([
      { label: "base model", value: d.base?.name ?? "—" },
      { label: "dataset", value: `${d.version.datasetName}@${d.version.number}` },
      { label: "steps", value: r.steps ?? "?" },
      { label: "best val loss", value: r.best_val_loss?.toFixed(4) ?? "—" },
    ]),
    renderSection("Summary", htmlTable(["", ""], summaryLines(d))),
    renderSection("Data lineage", htmlTable(["version", "transform", "records", "sha256"], d.lineage.map((l) => [`${d.version.datasetName}@${l.number}`, l.transform, String(l.records), l.sha256]))),
    renderSection("Hyperparameters (resolved)", htmlTable(["", ""], HYPERPARAMETERS.map(([k, f]) => [k, String(f(d.hyperparameters) ?? "—")]))),
    renderSection("Training curves", renderCurvesSvg({ "train/loss": d.curves["train/loss"] ?? [], "val/loss": d.curves["val/loss"] ?? [] })),
    renderSection(
      "Evaluation",
      d.evals.length === 0
        ? renderNotice("warn", "No evaluation references this model yet: run <code>tunekit eval run</code> with it as a candidate, then regenerate the card.")
        : d.evals.map((e) => {
            const t = evalTable(e);
            return `<h3>${escapeHtml(`${e.name} (${e.runId}): ${e.dataset}, split ${e.split}, ${e.examples} examples`)}</h3>${htmlTable(t.header, t.rows)}<ul>${e.verdicts.map((v) => `<li>${escapeHtml(v)}</li>`).join("")}</ul>`;
          }).join(""),
    ),
    renderSection("Intended use and limits", `<ul>${INTENDED_USE.map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ul>`),
  ];
  return renderPage({ title: `Model card: ${d.model.name}`, subtitle: `training run ${d.run.id}`, generatedAt: new Date().toISOString() }, sections);
}
