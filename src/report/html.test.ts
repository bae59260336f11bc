import { describe, expect, it } from "vitest";
import { binIntegers, binValues, escapeHtml, formatNumber, renderBarChart, renderHistogram, renderPage, renderTable } from "./html.js";

describe("report html primitives", () => {
  it("escapes user text everywhere", () => {
    expect(escapeHtml(`<script>"x" & 'y'</script>`)).toBe("&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;");
    const page = renderPage({ title: "<b>t</b>" }, [renderTable([{ a: "<i>" }], [{ key: "a", label: "A" }])]);
    expect(page).not.toContain("<i>");
    expect(page).not.toMatch(/<script|https?:\/\//);
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
