import { describe, expect, it } from "vitest";
import { normalCdf, requiredSampleSize, twoProportionTest, wilsonInterval } from "./ab-analysis.js";
import { alertablePsi, measureDrift, psi, scriptOf } from "./drift.js";
import { evaluateAlerts } from "./monitor.js";
import type { RequestRecord } from "./records.js";

const req = (id: string, ts: number, variant: string, status: number, latencyMs: number): RequestRecord => ({
  id, ts, model: "m", variant, experiment: "e", backend: variant, status, errorCode: status >= 400 ? "X" : null, stream: false, latencyMs, ttftMs: null,
  attempts: 1, promptTokens: 1, completionTokens: 1, costUsd: 0.001, keyId: null, userKey: null, input: null, output: null, finishReason: null,
});

describe("A/B statistics", () => {
  it("two-proportion z-test matches the textbook values", () => {
    // 200/1000 vs 250/1000: pooled p 0.225, z = 0.05 / sqrt(0.225·0.775·0.002) = 2.6774
    const t = twoProportionTest(200, 1000, 250, 1000);
    expect(Number(t.z.toFixed(4))).toBe(2.6774);
    expect(Number(t.p.toFixed(4))).toBe(0.0074);
    expect([Number(t.ciLow.toFixed(4)), Number(t.ciHigh.toFixed(4))]).toEqual([0.0135, 0.0865]); // ± 1.96·√(.2·.8/1000 + .25·.75/1000)
    expect(Number(normalCdf(1.96).toFixed(4))).toBe(0.975);
  });

  it("Wilson interval and the sample-size helper", () => {
    const w = wilsonInterval(8, 10);
    expect([Number(w.low.toFixed(4)), Number(w.high.toFixed(4))]).toEqual([0.4902, 0.9433]);
    // 0.70 → 0.75 at alpha 0.05, power 0.8: (1.96·√(2·.725·.275) + 0.8416·√(.21+.1875))² / .05² = 1250.7 → 1251
    expect(requiredSampleSize({ baseline: 0.7, mde: 0.05 })).toBe(1251);
    expect(() => requiredSampleSize({ baseline: 0.99, mde: 0.05 })).toThrow(/strictly between 0 and 1/);
  });
});

describe("drift and alerts", () => {
  it("PSI is 0 for equal distributions and large for a shift", () => {
    expect(psi([10, 10, 10], [20, 20, 20])).toBe(0);
    expect(Number(psi([50, 50], [90, 10]).toFixed(4))).toBe(0.8789);
    expect([scriptOf("hello there"), scriptOf("привет мир"), scriptOf("你好世界")]).toEqual(["latin", "cyrillic", "cjk"]);
    const ref = Array.from({ length: 100 }, (_, i) => ({ text: "x".repeat(10 + (i % 50)), label: i % 2 ? "card" : "loan" }));
    const live = Array.from({ length: 100 }, (_, i) => ({ text: "привет ".repeat(20 + (i % 30)), label: "card" }));
    const d = measureDrift(ref, live);
    expect(d.length.psi).toBeGreaterThan(0.25);
    expect(d.language.live).toEqual({ cyrillic: 100, latin: 0 });
    expect(d.label!.psi).toBeGreaterThan(0.25);
    expect([d.length.level, d.language.level, d.label!.level, d.length.note]).toEqual(["significant", "significant", "significant", null]);
    expect(alertablePsi(d)).toBe(Math.max(d.length.psi, d.language.psi, d.label!.psi));
  });

  it("reports insufficient data, not significant drift, below the minimum sample sizes", () => {
    const ref = Array.from({ length: 100 }, (_, i) => ({ text: "x".repeat(10 + (i % 50)), label: i % 2 ? "card" : "loan" }));
    const live = Array.from({ length: 4 }, (_, i) => ({ text: "привет ".repeat(20 + i), label: "card" }));
    const d = measureDrift(ref, live);
    expect(d.length.psi).toBeGreaterThan(0.25); // the index alone would say "significant"
    const insufficient = { level: "insufficient", note: "insufficient data (n=4, need ≥ 100)" };
    expect([d.length, d.language, d.label].map((m) => ({ level: m!.level, note: m!.note }))).toEqual([insufficient, insufficient, insufficient]);
    expect(alertablePsi(d)).toBeUndefined();
    // the training side too, and labels counted on their own
    const few = measureDrift(ref.slice(0, 30), Array.from({ length: 100 }, () => ({ text: "hello" })), { live: 50, reference: 50 });
    expect([few.length.note, few.label]).toEqual(["insufficient data (training n=30, need ≥ 50)", null]);
    const labels = measureDrift(ref, [...live, ...Array.from({ length: 96 }, () => ({ text: "x".repeat(20) }))]);
    expect([labels.length.level === "insufficient", labels.label!.note]).toEqual([false, "insufficient data (n=4, need ≥ 100)"]);
  });

  it("fires only the rules a variant crosses, with enough requests in the window", () => {
    const now = 10_000_000;
    const requests = [
      ...Array.from({ length: 30 }, (_, i) => req(`a${i}`, now - 1000 * i, "a", i < 6 ? 500 : 200, 100)),
      ...Array.from({ length: 30 }, (_, i) => req(`b${i}`, now - 1000 * i, "b", 200, 900)),
      ...Array.from({ length: 5 }, (_, i) => req(`c${i}`, now - 1000 * i, "c", 500, 10)),
    ];
    const alerts = evaluateAlerts(
      [
        { metric: "error_rate", op: ">", threshold: 0.1, windowMinutes: 15, minRequests: 20 },
        { metric: "latency_p95_ms", op: ">", threshold: 500, windowMinutes: 15, minRequests: 20 },
      ],
      requests,
      [],
      now,
    );
    expect(alerts.map((a) => [a.metric, a.variant, a.value])).toEqual([
      ["error_rate", "a", 0.2],
      ["latency_p95_ms", "b", 900],
    ]);
  });
});
