import { describe, expect, it } from "vitest";
import { alignSeries, formatTick } from "./line-chart";

describe("line chart helpers", () => {
  it("aligns series with different steps onto one x axis", () => {
    expect(alignSeries([{ label: "train", x: [1, 2, 3], y: [3, 2, 1] }, { label: "val", x: [2], y: [2.5] }])).toEqual([[1, 2, 3], [3, 2, 1], [null, 2.5, null]]);
  });
  it("formats learning-rate and count ticks", () => {
    expect([formatTick(0.0002), formatTick(0), formatTick(5200), formatTick(0.25), formatTick(2_000_000)]).toEqual(["2.0e-4", "0", "5200", "0.25", "2.0e+6"]);
  });
});
