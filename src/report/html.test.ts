import { describe, expect, it } from "vitest";
import { binIntegers, binValues, ESCAPE_HTML_SCRIPT, escapeHtml, formatNumber, inlineJson, renderBarChart, renderHistogram, renderPage, renderTable } from "./html.js";

describe("report html primitives", () => {
  it("escapes user text everywhere", () => {
    expect(escapeHtml(`<script>"x" & 'y'</script>`)).toBe("&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;");
    const page = renderPage({ title: "<b>t</b>" }, [renderTable([{ a: "<i>" }], [{ key: "a", label: "A" }])]);
    expect(page).not.toContain("<i>");
    expect(page).not.toMatch(/<script|https?:\/\//);
  });

  // Regression (issue #15): the eval report's escaper printed "" for null, this one printed "null"; there is one now.
  it("renders null and undefined as nothing", () => {
    expect([escapeHtml(null), escapeHtml(undefined), escapeHtml(0)]).toEqual(["", "", "0"]);
  });

  it("ships the same escaper to the browser as the inline script's esc()", () => {
    const esc = new Function(`${ESCAPE_HTML_SCRIPT}; return esc;`)() as (s: unknown) => string;
    for (const v of [`<a href="x" title='y'>&amp;</a>`, null, undefined, 12]) expect(esc(v)).toBe(escapeHtml(v));
  });

  it("keeps inline JSON from closing its <script> element", () => {
    expect(inlineJson({ a: "</script>\u2028" })).toBe('{"a":"\\u003c/script>\\u2028"}');
  });

  it("bins values with equal widths and clamps outliers into the last bin", () => {
    expect(binValues([0, 1, 2, 3, 100], 2, 3).map((b) => b.count)).toEqual([2, 3]);
    expect(binValues([], 4)).toEqual([]);
    expect(binIntegers([3, 4, 4, 9], 3)).toEqual([{ from: 3, to: 6, count: 3 }, { from: 6, to: 9, count: 0 }, { from: 9, to: 12, count: 1 }]);
  });

  it("draws one bar per item and one rect per bin", () => {
    const bars = renderBarChart([{ label: "a", value: 2 }, { label: "b", value: 1 }]);
    expect(bars.match(/<rect/g)).toHaveLength(2);
    expect(bars).toContain(">a: 2</title>");
    const hist = renderHistogram(binValues([1, 2, 3, 4], 4), { marker: { at: 3, label: "limit" } });
    expect(hist.match(/<rect/g)).toHaveLength(4);
    expect(hist).toContain("limit");
  });

  it("formats numbers", () => {
    expect([formatNumber(1234567), formatNumber(0.12345), formatNumber(1234.5), formatNumber("x")]).toEqual(["1,234,567", "0.123", "1,235", "x"]);
  });
});
