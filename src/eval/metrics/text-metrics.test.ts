import { describe, expect, it } from "vitest";
import { bleuFromStats, bleuSegmentStats, corpusBleu, sentenceBleu } from "./bleu.js";
import { chrfWords, corpusChrf, sentenceChrf } from "./chrf.js";
import { exactMatch, normalizedMatch, tokenF1 } from "./match.js";
import { lcsLength, rougeL } from "./rouge-l.js";
import { normalizeAnswer } from "./text-normalize.js";
import { tokenize13a } from "./tokenizer-13a.js";

describe("SQuAD normalisation and matches", () => {
  it("lower-cases, drops punctuation and articles, collapses whitespace", () => {
    expect(normalizeAnswer("  The  Cat's, an APPLE! ")).toBe("cats apple");
    expect(normalizeAnswer("theory a-b")).toBe("theory ab");
  });
  it("scores exact, normalised and token F1", () => {
    expect([exactMatch(" Paris ", "Paris"), exactMatch("paris", "Paris")]).toEqual([1, 0]);
    expect([normalizedMatch("the Paris.", "paris"), normalizedMatch("Paris, France", "paris")]).toEqual([1, 0]);
    // pred [paris, france] vs gold [paris]: p=1/2, r=1 → 2/3
    expect(tokenF1("Paris, France", "Paris")).toBeCloseTo(2 / 3, 12);
    expect([tokenF1("", ""), tokenF1("", "x"), tokenF1("a", "the")]).toEqual([1, 0, 1]);
  });
});

describe("ROUGE-L", () => {
  it("is the LCS F-measure over lower-cased word tokens", () => {
    expect(lcsLength(["a", "b", "c", "d"], ["a", "c", "d", "b"])).toBe(3);
    // ref: the cat sat on the mat (6); pred: the cat on mat (4); LCS 4 → p=1, r=2/3, f=0.8
    expect(rougeL("The cat on mat", "the cat sat on the mat")).toEqual({ precision: 1, recall: 4 / 6, fmeasure: 0.8 });
    expect(rougeL("", "x")).toEqual({ precision: 0, recall: 0, fmeasure: 0 });
    expect(rougeL("Привет мир", "привет, мир!").fmeasure).toBe(1);
  });
});

describe("13a tokenizer", () => {
  it("splits punctuation like mteval-v13a", () => {
    expect(tokenize13a("Hello, world! It costs $3.50.")).toBe("Hello , world ! It costs $ 3.50 .");
    expect(tokenize13a("Tom &amp; Jerry &lt;3")).toBe("Tom & Jerry < 3");
    expect(tokenize13a("the 3-4 split, 1,000")).toBe("the 3 - 4 split , 1,000");
    expect(tokenize13a("line-\nbreak\nhere")).toBe("linebreak here");
  });
});

describe("BLEU (sacrebleu defaults)", () => {
  it("is 100 for identical text", () => {
    expect(corpusBleu(["the cat sat on the mat"], [["the cat sat on the mat"]]).score).toBeCloseTo(100, 10);
  });
  it("collects sacrebleu's segment statistics", () => {
    // [hyp_len, ref_len, correct1..4, total1..4]
    expect(bleuSegmentStats("the cat", ["the cat sat on the mat"])).toEqual([2, 6, 2, 1, 0, 0, 2, 1, 0, 0]);
  });
  it("corpus BLEU is 0 when an order has no n-grams; sentence BLEU uses effective order", () => {
    expect(corpusBleu(["the cat"], [["the cat sat on the mat"]]).score).toBe(0);
    // effective order 2: precisions 100,100, bp = exp(1 - 6/2)
    expect(sentenceBleu("the cat", ["the cat sat on the mat"]).score).toBeCloseTo(100 * Math.exp(-2), 10);
  });
  it("applies exp smoothing to zero-match orders", () => {
    // hyp a b c x (4), ref a b c d: p1=3/4, p2=2/3, p3=1/2, p4: 0 matches of 1 → 100/(2*1)
    const s = bleuFromStats(bleuSegmentStats("a b c x", ["a b c d"]));
    expect(s.precisions).toEqual([75, 200 / 3, 50, 50]);
    expect(s.score).toBeCloseTo(Math.exp((Math.log(75) + Math.log(200 / 3) + Math.log(50) + Math.log(50)) / 4), 10);
  });
  it("scores an empty hypothesis 0 with brevity penalty 0", () => {
    const s = corpusBleu([""], [["something here"]]);
    expect([s.score, s.bp, s.sysLen, s.refLen]).toEqual([0, 0, 0, 2]);
  });
});

describe("chrF (sacrebleu defaults)", () => {
  it("is 100 for identical text and averages effective orders", () => {
    expect(sentenceChrf("ab", ["ab"])).toBeCloseTo(100, 10);
    // orders 1..2 effective: P=1, R=(2/3+1/2)/2=7/12 → F2 = 5·7/12 / (4+7/12) = 7/11
    expect(sentenceChrf("ab", ["abc"])).toBeCloseTo(700 / 11, 10);
    expect(sentenceChrf("", ["abc"])).toBe(0);
  });
  it("ignores whitespace and counts code points", () => {
    expect(sentenceChrf("a b", ["ab"])).toBeCloseTo(100, 10);
    expect(sentenceChrf("🙂x", ["🙂x"])).toBeCloseTo(100, 10);
  });
  it("chrF++ splits punctuation off words", () => {
    expect(chrfWords("(hi) there, you.")).toEqual(["(hi", ")", "there", ",", "you", "."]);
    expect(corpusChrf(["a b"], [["a b"]], { wordOrder: 2 })).toBeCloseTo(100, 10);
  });
});
