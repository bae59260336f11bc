import { describe, expect, it } from "vitest";
import { readTableRows } from "../import/table-rows.js";
import type { ChatRecord, DatasetRecord } from "../record.js";
import { BANKING77_CSV, BITEXT_CSV } from "../testing/temp-workspace.js";
import { collectStats, detectLanguage, NgramStats, renderStatsHtml, renderStatsText, summarize } from "./index.js";

const chat = (user: string, assistant: string, intent?: string): ChatRecord => ({
  messages: [{ role: "user", content: user }, { role: "assistant", content: assistant }],
  ...(intent ? { metadata: { intent } } : {}),
});

describe("summarize", () => {
  it("gives count, total, mean and percentiles", () => {
    expect(summarize([3, 1, 2, 4])).toEqual({ count: 4, total: 10, mean: 2.5, min: 1, p50: 3, p90: 4, p99: 4, max: 4 });
    expect(summarize([])).toEqual({ count: 0, total: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });
});

describe("detectLanguage", () => {
  it("detects by script and by stopwords, and says und when unsure", () => {
    expect(["How do I reset the password for my account?", "¿Cómo puedo cambiar la dirección de mi cuenta?", "Je ne trouve pas ma carte dans le courrier", "Ich kann meine Karte nicht finden und das ist schlecht", "Как мне сбросить пароль?", "パスワードを忘れました", "비밀번호를 잊었어요", "ok"].map(detectLanguage)).toEqual(["en", "es", "fr", "de", "ru", "ja", "ko", "und"]);
  });
});

describe("NgramStats", () => {
  it("computes distinct-n and top n-grams", () => {
    const n = new NgramStats(2);
    n.add("a b a b");
    expect(n.result(2)).toEqual({ distinct1: 0.5, distinct2: 0.6667, unigrams: 4, bigrams: 3, n: 2, topNgrams: [{ ngram: "a b", count: 2 }, { ngram: "b a", count: 1 }] });
  });
});

describe("collectStats", () => {
  it("gives the same stats with a batched counter (a tokenizer.json) as with the same counter called per text", async () => {
    const records: DatasetRecord[] = [chat("hi there", "hello you", "greet"), { text: "one two three" }, chat("hi there", "ok")];
    const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
    const batches: string[][] = [];
    const batched = { countBatch: async (texts: string[]) => { batches.push(texts); return texts.map(words); } };
    const options = { tokenizer: "words", duplicates: false, pii: false };
    const { exampleTokens: a, ...perText } = await collectStats(records, options, words);
    const { exampleTokens: b, ...perBatch } = await collectStats(records, options, batched);
    expect(perBatch).toEqual(perText);
    expect([...b]).toEqual([...a]);
    // One batch of distinct texts for these three records.
    expect(batches).toEqual([["hi there", "hello you", "one two three", "ok"]]);
  });

  it("counts turns, tokens per role with an injected counter, labels, and warns with guidance", async () => {
    const records: DatasetRecord[] = [chat("hi there", "hello you", "greet"), chat("bye", "see you later", "greet"), chat("card?", "it ships soon", "card")];
    const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
    const s = await collectStats(records, { tokenizer: "words", contextLimit: 12 }, words);
    expect(s.tokenizer).toEqual({ name: "words", estimate: false });
    expect(s.turns).toMatchObject({ count: 3, mean: 2, max: 2 });
    expect(s.tokensByRole.user).toMatchObject({ count: 3, total: 4 });
    expect(s.tokensByRole.assistant).toMatchObject({ count: 3, total: 8 });
    expect(Array.from(s.exampleTokens)).toEqual([12, 12, 12]);
    expect(s.overLimit).toBe(0);
    expect(s.label).toEqual({ field: "intent", counts: { greet: 2, card: 1 }, missing: 0, imbalance: 2 });
    expect(s.warnings.map((w) => w.code)).toEqual(["TOO_FEW_EXAMPLES", "RARE_LABELS"]);
    expect(s.warnings[0].guidance).toContain("100–500");
  });

  it("labels the default token counter as an estimate and flags over-length examples, duplicates and PII", async () => {
    const long = "word ".repeat(400);
    const records = Array.from({ length: 120 }, (_, i) => chat(`question ${i} about my account number ${i * 13} and the fee`, i % 10 === 0 ? long : `answer ${i} with some detail on transfers`));
    records.push(chat("my email is jo@ex.com", "thanks"), chat("my email is jo@ex.com", "thanks"));
    const s = await collectStats(records, { contextLimit: 100 });
    expect(s.tokenizer.estimate).toBe(true);
    expect(s.overLimit).toBe(12);
    expect(s.duplicates).toMatchObject({ exact: 1 });
    expect(s.pii).toMatchObject({ recordsWithFindings: 2 });
    expect(s.warnings.map((w) => w.code)).toEqual(["OVER_CONTEXT_LIMIT", "PII_FOUND", "TOKENS_ESTIMATED"]);
  });

  it("rejects bad options with DATA_STATS_OPTIONS", async () => {
    await expect(collectStats([], { contextLimit: -1 })).rejects.toMatchObject({ code: "DATA_STATS_OPTIONS" });
  });

  it("describes banking77 and bitext (real data) and renders text and HTML", async () => {
    async function* rows(path: string, user: string, assistant: string | undefined, label: string) {
      for await (const row of readTableRows({ kind: "csv", path })) {
        if (!row.values) continue;
        yield { messages: [{ role: "user", content: row.values[user] }, ...(assistant ? [{ role: "assistant", content: row.values[assistant] }] : [])], metadata: { [label]: row.values[label] } } as ChatRecord;
      }
    }
    const banking = await collectStats(rows(BANKING77_CSV, "text", undefined, "category"));
    expect(banking.records).toBe(10003);
    expect(Object.keys(banking.label!.counts)).toHaveLength(77);
    expect(banking.languages.en).toBeGreaterThan(9000);
    expect(banking.pii!.recordsWithFindings).toBe(0);
    expect(banking.warnings.map((w) => w.code)).toContain("NO_ASSISTANT_TURNS");
    const bitext = await collectStats(rows(BITEXT_CSV, "instruction", "response", "intent"));
    expect(bitext.label!.field).toBe("intent");
    expect(bitext.tokensByRole.assistant.mean).toBeGreaterThan(bitext.tokensByRole.user.mean);
    const text = renderStatsText(bitext, "bitext");
    expect(text[0]).toBe(`bitext: ${bitext.records} records (chat ${bitext.records}, text 0, preference 0)`);
    const html = renderStatsHtml(bitext, "bitext", "2024-01-01T00:00:00Z");
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/<script|src="http/);
  });
});
