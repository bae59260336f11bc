import { describe, expect, it } from "vitest";
import type { EvalSummary } from "../suite/summarize.js";
import { renderHtml, type ExampleRow } from "./html-report.js";
import { renderMarkdown } from "./markdown-report.js";
import { EXAMPLE_TABLE_SCRIPT } from "./report-assets.js";
import { wordDiff } from "./word-diff.js";

const metric = (value: number) => ({ value, low: value - 0.1, high: value + 0.1, n: 2, unit: "fraction" as const });
const cost = { requests: 2, meanPromptTokens: 10, meanCompletionTokens: 2, costPerRequestUsd: 0.001, totalCostUsd: 0.002, correct: 1, costPerCorrectUsd: 0.002, monthlyVolume: 1000, monthlyCostUsd: 1 };
const summary: EvalSummary = {
  primaryMetric: "accuracy",
  examples: 2,
  candidates: [
    { name: "a", backend: {}, prompt: "zero-shot", examples: 2, failures: 0, cached: 0, metrics: { accuracy: metric(0.5) }, latency: null, cost, confusion: { labels: ["x", "y"], predicted: ["x", "y"], counts: [[1, 0], [1, 0]] } },
    { name: "b", backend: {}, prompt: "template", examples: 2, failures: 1, cached: 0, truncated: 1, metrics: { accuracy: metric(1) }, latency: null, cost },
  ],
  comparisons: [],
  verdicts: ["b beats a by 50.0 points accuracy, 95% CI [10.0, 90.0], p = 0.03"],
};
const rows: ExampleRow[] = [
  { id: "1", input: "</script><script>alert(1)</script>", reference: "x", candidates: { a: { output: "x", error: null, scores: { accuracy: 1 } }, b: { output: "x", error: null, scores: { accuracy: 1 } } } },
  { id: "2", input: "two", reference: "y", candidates: { a: { output: "x and then some", error: null, scores: { accuracy: 0 }, truncated: true }, b: { output: null, error: { code: "E", message: "HTTP 500" }, scores: { accuracy: 0 } } } },
];
const meta = { runId: "run_1", suite: "s <b>", dataset: "d@1", split: "test", createdAt: "2026-01-01" };

/** Just enough DOM for the report's inline script. */
function fakeDom(json: string) {
  const els: Record<string, { value: string; checked: boolean; textContent: string; innerHTML: string; listeners: Record<string, () => void>; addEventListener(t: string, f: () => void): void }> = {};
  const el = (textContent = "") => ({ value: "", checked: false, textContent, innerHTML: "", listeners: {} as Record<string, () => void>, addEventListener(t: string, f: () => void) { this.listeners[t] = f; } });
  for (const id of ["q", "disagree", "failed", "truncated", "wrong", "count"]) els[id] = el();
  els.data = el(json);
  const tbody = el();
  return { els, tbody, document: { getElementById: (id: string) => els[id], querySelector: () => tbody } };
}

describe("HTML report", () => {
  const html = renderHtml(meta, summary, rows);
  it("is self-contained and escapes user text", () => {
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
    expect(html).toContain("s &lt;b&gt;");
    expect(html.match(/<\/script>/g)).toHaveLength(2); // the data block and the table script only
    expect(html).toContain("b beats a by 50.0 points accuracy");
    expect(html).toContain('<table class="confusion">');
  });
  it("renders and filters the example table with its inline script", () => {
    const json = /<script type="application\/json" id="data">([\s\S]*?)<\/script>/.exec(html)![1];
    const dom = fakeDom(json);
    new Function("document", EXAMPLE_TABLE_SCRIPT)(dom.document);
    expect(dom.els.count.textContent).toBe("2 of 2 examples");
    expect(dom.tbody.innerHTML).toContain("&lt;/script&gt;");
    expect(dom.tbody.innerHTML).toContain('<td class="err">failed: HTTP 500</td>');
    dom.els.failed.checked = true;
    dom.els.failed.listeners.change();
    expect(dom.els.count.textContent).toBe("1 of 2 examples");
    dom.els.failed.checked = false;
    dom.els.truncated.checked = true;
    dom.els.truncated.listeners.change();
    expect(dom.els.count.textContent).toBe("1 of 2 examples");
    expect(dom.tbody.innerHTML).toContain('<ins>x and then some</ins><span class="trunc" title="hit maxTokens: the answer is cut off">truncated</span></td>');
    dom.els.truncated.checked = false;
    dom.els.disagree.checked = true;
    dom.els.disagree.listeners.change();
    expect(dom.els.count.textContent).toBe("1 of 2 examples");
  });
  it("diffs words against the reference", () => {
    expect(wordDiff("the card arrived", "the card never arrived")).toEqual([
      { op: "same", text: "the card " },
      { op: "add", text: "never " },
      { op: "same", text: "arrived" },
    ]);
  });
  it("writes a Markdown summary", () => {
    const md = renderMarkdown(meta, summary);
    expect(md).toContain("- b beats a by 50.0 points accuracy");
    expect(md).toContain("| b | template | 100.0% [90.0%, 110.0%] | 1/2 | 1/2 |");
    expect(md).toContain("| a | zero-shot | 50.0% [40.0%, 60.0%] | 0/2 | – |");
    expect(md).toContain('## Truncated answers\n\n- b: 1 of 2 answers hit maxTokens and are truncated (finish reason "length"); raise the candidate\'s maxTokens or shorten the expected answer.\n');
  });
  it("flags truncated answers in the HTML candidates table", () => {
    expect(html).toContain("<th>failures</th><th>truncated</th>");
    expect(html).toContain("<td>1/2</td><td>1/2</td>");
    expect(html).toContain('<p class="warn">b: 1 of 2 answers hit maxTokens and are truncated (finish reason &quot;length&quot;); raise the candidate&#39;s maxTokens or shorten the expected answer.</p>');
  });
});
