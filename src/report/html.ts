/**
 * Self-contained HTML report primitives: a page shell with inline CSS, bar charts and histograms as inline
 * SVG, tables, key/value lists and notices. No scripts, no CDN, no external fonts — a report file opens offline
 * and can be attached to a ticket. Everything user-provided goes through `escapeHtml`. Generic on purpose:
 * dataset stats and eval reports both build on these.
 */
// The one HTML escaper (text and attribute values): all five of & < > " ' so a value is safe inside a quoted
// attribute with either quote. null/undefined render as nothing, not the word "null".
const HTML_ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const HTML_SPECIAL = /[&<>"']/g;

export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(HTML_SPECIAL, (c) => HTML_ENTITIES[c]);
}

/** The same escaper as browser JavaScript (`function esc(s)`), for the scripts inlined in reports. */
export const ESCAPE_HTML_SCRIPT = `function esc(s){return String(s==null?'':s).replace(/${HTML_SPECIAL.source}/g,function(c){return ${JSON.stringify(HTML_ENTITIES)}[c];});}`;

/** JSON for an inline <script type="application/json">: `<` escaped so "</script>" in data cannot end it. */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1040px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #dde1e7;padding-bottom:4px}
.sub{color:#5b6475;margin-bottom:16px}
section{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:14px 18px;margin:14px 0}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{color:#5b6475;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:8px}
.kv div{background:#f3f5f8;border-radius:6px;padding:8px 10px}.kv b{display:block;font-size:18px}
.notice{border-left:4px solid #8a94a6;padding:8px 12px;margin:8px 0;background:#f7f8fa}
.notice.warn{border-color:#d98e04;background:#fff8e6}.notice.error{border-color:#c62828;background:#fdecea}.notice.info{border-color:#1e6fd9;background:#eef5ff}
svg text{font:11px system-ui,sans-serif;fill:#3b4252}
`;

export interface PageOptions {
  title: string;
  subtitle?: string;
  generatedAt?: string;
}

export function renderPage(options: PageOptions, sections: string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(options.title)}</title><style>${CSS}</style></head>
<body><main><h1>${escapeHtml(options.title)}</h1>
<div class="sub">${escapeHtml(options.subtitle ?? "")}${options.generatedAt ? ` · generated ${escapeHtml(options.generatedAt)}` : ""}</div>
${sections.join("\n")}
</main></body></html>
`;
}

export function renderSection(title: string, ...content: string[]): string {
  return `<section><h2>${escapeHtml(title)}</h2>${content.join("\n")}</section>`;
}

export function renderKeyValues(items: { label: string; value: string | number }[]): string {
  return `<div class="kv">${items.map((i) => `<div>${escapeHtml(i.label)}<b>${escapeHtml(formatNumber(i.value))}</b></div>`).join("")}</div>`;
}

export function renderNotice(level: "info" | "warn" | "error", html: string): string {
  return `<div class="notice ${level}">${html}</div>`;
}

export interface Column<T> {
  key: keyof T & string;
  label: string;
  numeric?: boolean;
}

export function renderTable<T extends Record<string, unknown>>(rows: T[], columns: Column<T>[]): string {
  const head = columns.map((c) => `<th${c.numeric ? ' class="num"' : ""}>${escapeHtml(c.label)}</th>`).join("");
  const body = rows
    .map((r) => `<tr>${columns.map((c) => `<td${c.numeric ? ' class="num"' : ""}>${escapeHtml(formatNumber(r[c.key] as string | number))}</td>`).join("")}</tr>`)
    .join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

export interface Bar {
  label: string;
  value: number;
}

/** Horizontal bars, one row per item, value printed at the end. */
export function renderBarChart(bars: Bar[], options: { title?: string; width?: number; color?: string } = {}): string {
  const width = options.width ?? 720;
  const row = 20;
  const labelWidth = Math.min(260, Math.max(60, ...bars.map((b) => b.label.length * 6.5)));
  const plot = width - labelWidth - 70;
  const max = Math.max(0, ...bars.map((b) => b.value)) || 1;
  const height = bars.length * row + 8;
  const items = bars
    .map((b, i) => {
      const y = 4 + i * row;
      const w = Math.max(b.value > 0 ? 1 : 0, (b.value / max) * plot);
      return `<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end">${escapeHtml(truncate(b.label, 40))}</text>` +
        `<rect x="${labelWidth}" y="${y + 3}" width="${w.toFixed(1)}" height="${row - 6}" rx="2" fill="${options.color ?? "#4c7bd9"}"><title>${escapeHtml(b.label)}: ${escapeHtml(formatNumber(b.value))}</title></rect>` +
        `<text x="${(labelWidth + w + 4).toFixed(1)}" y="${y + 14}">${escapeHtml(formatNumber(b.value))}</text>`;
    })
    .join("");
  return svg(width, height, items, options.title);
}

export interface HistogramBin {
  from: number;
  to: number;
  count: number;
}

/** Equal-width bins over [min, max]; values above `clampAt` (e.g. p99) fall into the last bin. */
export function binValues(values: ArrayLike<number>, bins = 20, clampAt?: number): HistogramBin[] {
  if (values.length === 0) return [];
  const [min, highest] = extent(values);
  const max = clampAt === undefined ? highest : Math.min(highest, Math.max(min, clampAt));
  const span = max - min || 1;
  const out: HistogramBin[] = Array.from({ length: bins }, (_, i) => ({ from: min + (span * i) / bins, to: min + (span * (i + 1)) / bins, count: 0 }));
  for (let i = 0; i < values.length; i++) out[Math.min(bins - 1, Math.max(0, Math.floor(((values[i] - min) / span) * bins)))].count++;
  return out;
}

/** Bins of whole-number width over integers (token counts): at most `bins` bins, edges on integers. */
export function binIntegers(values: ArrayLike<number>, bins = 30): HistogramBin[] {
  if (values.length === 0) return [];
  const [min, max] = extent(values);
  const width = Math.max(1, Math.ceil((max - min + 1) / bins));
  const out: HistogramBin[] = Array.from({ length: Math.ceil((max - min + 1) / width) }, (_, i) => ({ from: min + i * width, to: min + (i + 1) * width, count: 0 }));
  for (let i = 0; i < values.length; i++) out[Math.floor((values[i] - min) / width)].count++;
  return out;
}

function extent(values: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  return [min, max];
}

/** Vertical bars over bins, x labels at both ends and the middle, an optional marker line (e.g. a limit). */
export function renderHistogram(bins: HistogramBin[], options: { title?: string; width?: number; height?: number; marker?: { at: number; label: string } } = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 180;
  const left = 40;
  const bottom = 22;
  const plotW = width - left - 10;
  const plotH = height - bottom - 10;
  if (bins.length === 0) return svg(width, 40, `<text x="${left}" y="24">no data</text>`, options.title);
  const max = Math.max(...bins.map((b) => b.count)) || 1;
  const bw = plotW / bins.length;
  let body = `<line x1="${left}" y1="${10 + plotH}" x2="${left + plotW}" y2="${10 + plotH}" stroke="#9aa3b2"/>`;
  body += `<text x="${left - 4}" y="16" text-anchor="end">${formatNumber(max)}</text><text x="${left - 4}" y="${10 + plotH}" text-anchor="end">0</text>`;
  bins.forEach((b, i) => {
    const h = (b.count / max) * plotH;
    body += `<rect x="${(left + i * bw + 1).toFixed(1)}" y="${(10 + plotH - h).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#4c7bd9"><title>${formatNumber(Math.round(b.from))}–${formatNumber(Math.round(b.to))}: ${formatNumber(b.count)}</title></rect>`;
  });
  const lo = bins[0].from;
  const hi = bins[bins.length - 1].to;
  for (const [frac, anchor] of [[0, "start"], [0.5, "middle"], [1, "end"]] as const) {
    body += `<text x="${(left + frac * plotW).toFixed(1)}" y="${height - 6}" text-anchor="${anchor}">${formatNumber(Math.round(lo + frac * (hi - lo)))}</text>`;
  }
  if (options.marker && options.marker.at >= lo && options.marker.at <= hi) {
    const x = left + ((options.marker.at - lo) / (hi - lo || 1)) * plotW;
    body += `<line x1="${x.toFixed(1)}" y1="10" x2="${x.toFixed(1)}" y2="${10 + plotH}" stroke="#c62828" stroke-dasharray="4 3"/><text x="${(x - 4).toFixed(1)}" y="22" text-anchor="end" style="fill:#c62828">${escapeHtml(options.marker.label)}</text>`;
  }
  return svg(width, height, body, options.title);
}

function svg(width: number, height: number, body: string, title?: string): string {
  const caption = title ? `<div style="font-weight:600;margin:8px 0 2px">${escapeHtml(title)}</div>` : "";
  return `${caption}<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" viewBox="0 0 ${width} ${height}" preserveAspectRatio="xMinYMin meet">${title ? `<title>${escapeHtml(title)}</title>` : ""}${body}</svg>`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Thousands separators for integers, 3 significant decimals for fractions; strings pass through. */
export function formatNumber(value: string | number | undefined | null): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString("en-US") : value.toPrecision(3);
}
