import { escapeHtml } from "../../report/index.js";
import { formatMetric, unitMax } from "./format-values.js";
import type { MetricUnit } from "../metrics/metric.js";

/** Small inline SVG charts (no libraries, no network): bars with CI whiskers, a scatter, a line with projection. */
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#ca8a04"];
export const colorAt = (i: number): string => COLORS[i % COLORS.length];

export interface Bar {
  label: string;
  value: number | null;
  low: number | null;
  high: number | null;
}

export function barChart(title: string, bars: readonly Bar[], unit: MetricUnit): string {
  const rowH = 26;
  const left = 160;
  const width = 560;
  const plotW = width - left - 70;
  const max = unitMax(unit);
  const x = (v: number) => left + (Math.max(0, Math.min(max, v)) / max) * plotW;
  const rows = bars
    .map((b, i) => {
      const y = 24 + i * rowH;
      if (b.value === null) return `<text x="${left}" y="${y + 15}" class="muted">no value</text>`;
      const whisker =
        b.low !== null && b.high !== null
          ? `<line x1="${x(b.low)}" x2="${x(b.high)}" y1="${y + 10}" y2="${y + 10}" stroke="#111" stroke-width="1.5"/><line x1="${x(b.low)}" x2="${x(b.low)}" y1="${y + 5}" y2="${y + 15}" stroke="#111"/><line x1="${x(b.high)}" x2="${x(b.high)}" y1="${y + 5}" y2="${y + 15}" stroke="#111"/>`
          : "";
      return `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${escapeHtml(b.label)}</text><rect x="${left}" y="${y + 2}" width="${x(b.value) - left}" height="16" fill="${colorAt(i)}" opacity="0.75"><title>${escapeHtml(`${b.label}: ${formatMetric(b.value, unit)} [${formatMetric(b.low, unit)}, ${formatMetric(b.high, unit)}]`)}</title></rect>${whisker}<text x="${width - 62}" y="${y + 15}">${formatMetric(b.value, unit)}</text>`;
    })
    .join("");
  const h = 34 + bars.length * rowH;
  return `<figure class="chart"><figcaption>${escapeHtml(title)} <span class="muted">(bars: value, whiskers: 95% CI)</span></figcaption><svg viewBox="0 0 ${width} ${h}" width="${width}" height="${h}" role="img">${rows}</svg></figure>`;
}

export interface Point {
  label: string;
  x: number;
  y: number;
}

function axes(w: number, h: number, pad: number, xLabel: string, yLabel: string, xMax: number, yMax: number, fx: (v: number) => string, fy: (v: number) => string): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const xt = ticks.map((t) => `<text x="${pad + t * (w - 2 * pad)}" y="${h - pad + 16}" text-anchor="middle" class="muted">${fx(t * xMax)}</text>`).join("");
  const yt = ticks.map((t) => `<text x="${pad - 6}" y="${h - pad - t * (h - 2 * pad) + 4}" text-anchor="end" class="muted">${fy(t * yMax)}</text>`).join("");
  return `<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#888"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#888"/>${xt}${yt}<text x="${w / 2}" y="${h - 4}" text-anchor="middle">${escapeHtml(xLabel)}</text><text x="12" y="${h / 2}" transform="rotate(-90 12 ${h / 2})" text-anchor="middle">${escapeHtml(yLabel)}</text>`;
}

export function scatterChart(title: string, points: readonly Point[], xLabel: string, yLabel: string, unit: MetricUnit, fx: (v: number) => string): string {
  const w = 560;
  const h = 320;
  const pad = 56;
  const xMax = Math.max(...points.map((p) => p.x), 1e-9) * 1.1;
  const yMax = unitMax(unit);
  const px = (v: number) => pad + (v / xMax) * (w - 2 * pad);
  const py = (v: number) => h - pad - (v / yMax) * (h - 2 * pad);
  const dots = points
    .map((p, i) => `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="6" fill="${colorAt(i)}"><title>${escapeHtml(`${p.label}: ${fx(p.x)}, ${formatMetric(p.y, unit)}`)}</title></circle><text x="${px(p.x) + 9}" y="${py(p.y) + 4}">${escapeHtml(p.label)}</text>`)
    .join("");
  return `<figure class="chart"><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img">${axes(w, h, pad, xLabel, yLabel, xMax, yMax, fx, (v) => formatMetric(v, unit))}${dots}</svg></figure>`;
}

export function lineChart(title: string, measured: readonly Point[], projected: readonly Point[], xLabel: string, yLabel: string, unit: MetricUnit): string {
  const w = 560;
  const h = 320;
  const pad = 56;
  const all = [...measured, ...projected];
  const xMax = Math.max(...all.map((p) => p.x), 1) * 1.05;
  const yMax = unitMax(unit);
  const px = (v: number) => pad + (v / xMax) * (w - 2 * pad);
  const py = (v: number) => h - pad - (Math.max(0, Math.min(yMax, v)) / yMax) * (h - 2 * pad);
  const path = (pts: readonly Point[]) => pts.map((p, i) => `${i ? "L" : "M"}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(" ");
  const dots = measured.map((p) => `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="4" fill="${colorAt(0)}"><title>${escapeHtml(`${p.label}: ${formatMetric(p.y, unit)}`)}</title></circle>`).join("");
  return `<figure class="chart"><figcaption>${escapeHtml(title)} <span class="muted">(solid: measured, dashed: projection)</span></figcaption><svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img">${axes(w, h, pad, xLabel, yLabel, xMax, yMax, (v) => String(Math.round(v)), (v) => formatMetric(v, unit))}<path d="${path(measured)}" fill="none" stroke="${colorAt(0)}" stroke-width="2"/>${projected.length ? `<path d="${path([measured[measured.length - 1], ...projected])}" fill="none" stroke="${colorAt(0)}" stroke-width="2" stroke-dasharray="6 4"/>` : ""}${dots}</svg></figure>`;
}
