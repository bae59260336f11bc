import { describe, expect, it } from "vitest";
import { createAssertionMetric } from "./assertions.js";
import { UNMAPPED, confusionMatrix, createClassificationMetrics, macroF1FromStats, mapOutputToLabel } from "./classification.js";
import { loadCustomMetric } from "./custom-function.js";
import { createJsonSchemaMetric, createJsonValidMetric } from "./json-metrics.js";
import { aggregateScores, type EvalExample } from "./metric.js";

const ex = (reference: string | null, id = "1"): EvalExample => ({ id, input: "q", reference });
const LABELS = ["card", "card_arrival", "refund"];

describe("classification", () => {
  it("maps outputs to labels: exact, then longest label found", () => {
    expect(mapOutputToLabel(" Card_Arrival. ", LABELS)).toBe("card_arrival");
    expect(mapOutputToLabel("This is about card arrival.", LABELS)).toBe("card_arrival");
    expect(mapOutputToLabel("I think: refund", LABELS)).toBe("refund");
    expect(mapOutputToLabel("refunds please", LABELS)).toBe(UNMAPPED);
    expect(mapOutputToLabel("I think: refund", LABELS, "exact")).toBe(UNMAPPED);
  });
  it("computes accuracy, macro-F1 and the confusion matrix", async () => {
    const { accuracy, macroF1 } = createClassificationMetrics(LABELS);
    const rows = [
      ["card", "card"],
      ["card", "refund"],
      ["refund", "refund"],
      ["card_arrival", "nonsense"],
    ];
    const acc = await Promise.all(rows.map(([t, o], i) => accuracy.score({ example: ex(t, String(i)), output: o })));
    const f1 = await Promise.all(rows.map(([t, o], i) => macroF1.score({ example: ex(t, String(i)), output: o })));
    expect(aggregateScores(accuracy, acc)).toBe(0.5);
    // card: tp1 fn1 → p1 r.5 f 2/3; refund: tp1 fp1 → p.5 r1 f 2/3; card_arrival: fn1 → 0. macro = 4/9
    expect(aggregateScores(macroF1, f1)).toBeCloseTo(4 / 9, 12);
    expect(macroF1FromStats([0, 0, 0, 1, 0, 0], ["a", "b"]).perClass).toEqual([{ label: "b", precision: 1, recall: 1, f1: 1, support: 1 }]);
    const cm = confusionMatrix(acc.map((a) => a.detail as { truth: string; predicted: string }), LABELS);
    expect(cm).toEqual({
      labels: LABELS,
      predicted: [...LABELS, UNMAPPED],
      counts: [
        [1, 0, 1, 0],
        [0, 0, 0, 1],
        [0, 0, 1, 0],
      ],
    });
  });
});

describe("JSON metrics", () => {
  it("checks validity, with and without extraction", () => {
    expect(createJsonValidMetric().score({ example: ex(null), output: 'Sure! ```json\n{"a": 1}\n```' })).toEqual({ value: 1 });
    expect(createJsonValidMetric({ extract: false }).score({ example: ex(null), output: 'Sure! {"a": 1}' })).toMatchObject({ value: 0 });
  });
  it("checks schema conformance with ajv and lists errors", () => {
    const m = createJsonSchemaMetric({ type: "object", required: ["label"], properties: { label: { enum: ["a", "b"] } } });
    expect(m.score({ example: ex(null), output: '{"label":"a"}' })).toEqual({ value: 1 });
    expect(m.score({ example: ex(null), output: '{"label":"c"}' })).toEqual({ value: 0, detail: { errors: ["/label must be equal to one of the allowed values"] } });
  });
  it("rejects a schema that does not compile", () => {
    expect(() => createJsonSchemaMetric({ type: "nope" })).toThrow(expect.objectContaining({ code: "EVAL_BAD_JSON_SCHEMA" }));
  });
});

describe("assertions", () => {
  it("regex, contains and not-contains", () => {
    const out = { example: ex(null), output: "Order #1234 shipped" };
    expect(createAssertionMetric({ type: "regex", value: "#\\d{4}" }).score(out)).toEqual({ value: 1 });
    expect(createAssertionMetric({ type: "contains", value: "SHIPPED" }).score(out)).toEqual({ value: 1 });
    expect(createAssertionMetric({ type: "contains", value: "SHIPPED", caseSensitive: true }).score(out)).toEqual({ value: 0 });
    expect(createAssertionMetric({ type: "not_contains", value: "sorry" }).score(out)).toEqual({ value: 1 });
    expect(() => createAssertionMetric({ type: "regex", value: "(" })).toThrow(expect.objectContaining({ code: "EVAL_BAD_REGEX" }));
  });
});

describe("custom function metric", () => {
  it("loads a TS module exporting score(example, output)", async () => {
    const m = await loadCustomMetric("testdata/length-metric.ts", { baseDir: new URL(".", import.meta.url).pathname, name: "short" });
    expect(m.version).toBe("custom/1 (testdata/length-metric.ts@2)");
    expect(await m.score({ example: ex("abcd"), output: "ab" })).toEqual({ value: 1, detail: { length: 2 } });
  });
  it("reports a missing module", async () => {
    await expect(loadCustomMetric("nope.js", { baseDir: "/tmp" })).rejects.toMatchObject({ code: "EVAL_CUSTOM_METRIC_NOT_FOUND" });
  });
});
