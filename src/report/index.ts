/** The report stage's public surface: other stages and the shells import from here, never from its files. */
export { ESCAPE_HTML_SCRIPT, binIntegers, binValues, escapeHtml, inlineJson, renderBarChart, renderHistogram, renderKeyValues, renderNotice, renderPage, renderSection, renderTable } from "./html.js";
export { renderCurvesSvg, renderModelCardHtml, renderModelCardMarkdown, writeModelCard } from "./model-card.js";
export type { WrittenModelCard } from "./model-card.js";
