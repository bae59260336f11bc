import { describe, expect, it } from "vitest";
import type { EvalExample } from "../metrics/metric.js";
import { Bm25Index, splitPassages } from "./bm25-index.js";
import { buildPrompt, checkTemplate, drawFewShot, strategyName } from "./prompt-strategy.js";

const ex = (id: string, input: string, reference: string): EvalExample => ({ id, input, reference });
const train = [ex("t1", "card lost", "lost_card"), ex("t2", "refund me", "refund"), ex("t3", "where is card", "card_arrival"), ex("t4", "fee?", "fee")];

describe("BM25 retrieval", () => {
  const index = new Bm25Index([
    ...splitPassages("cards.md", "Lost or stolen cards can be frozen in the app. A new card arrives in 5 days."),
    { id: "fees", source: "fees.md", text: "Cash withdrawals above 200 pounds a month carry a 2% fee." },
    { id: "refunds", source: "refunds.md", text: "Refunds for card payments take up to 10 days to appear." },
  ]);
  it("ranks the passage sharing rare terms first", () => {
    const hits = index.query("why was I charged a fee for a cash withdrawal", 2);
    expect(hits.map((h) => h.id)).toEqual(["fees", "refunds"]); // "for" also occurs in the refunds passage
    expect(hits[0].score).toBeGreaterThan(hits[1].score);
    expect(index.query("my card was stolen", 3)[0].id).toBe("cards.md");
  });
  it("splits documents into word windows", () => {
    expect(splitPassages("d", "a b c d e", 2).map((p) => p.text)).toEqual(["a b", "c d", "e"]);
  });
});

describe("prompt strategies", () => {
  it("zero-shot is the input alone", () => {
    expect(buildPrompt({}, ex("1", "hi", "x"), {}).messages).toEqual([{ role: "user", content: "hi" }]);
    expect(strategyName({})).toBe("zero-shot");
  });
  it("few-shot draws the same seeded shots and renders them through the template", () => {
    const shots = drawFewShot(train, 2, 7);
    expect(drawFewShot(train, 2, 7)).toEqual(shots);
    const spec = { system: "Label it.", template: "Text: {{input}}", fewShot: { k: 2, seed: 7 } };
    expect(buildPrompt(spec, ex("1", "hi", "x"), {}, shots).messages).toEqual([
      { role: "system", content: "Label it." },
      { role: "user", content: `Text: ${shots[0].input}` },
      { role: "assistant", content: shots[0].reference },
      { role: "user", content: `Text: ${shots[1].input}` },
      { role: "assistant", content: shots[1].reference },
      { role: "user", content: "Text: hi" },
    ]);
    expect(strategyName(spec)).toBe("system+few-shot(k=2,seed=7)+template");
  });
  it("puts retrieved passages into {{context}}", () => {
    const index = new Bm25Index([{ id: "a", source: "a", text: "fees apply to withdrawals" }, { id: "b", source: "b", text: "cards arrive" }]);
    const built = buildPrompt({ template: "{{context}}\nQ: {{input}}", retrieval: { k: 1 } }, ex("1", "withdrawal fees", "x"), { index });
    expect(built.messages).toEqual([{ role: "user", content: "[1] fees apply to withdrawals\nQ: withdrawal fees" }]);
  });
  it("rejects templates without {{input}} or with unknown variables", () => {
    expect(() => checkTemplate("Classify this", "candidates[0].prompt.template")).toThrow(expect.objectContaining({ code: "EVAL_BAD_TEMPLATE" }));
    expect(() => checkTemplate("{{input}} {{label}}", "x")).toThrow(/unknown template variable \{\{label\}\}/);
  });
});
