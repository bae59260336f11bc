import type { Metric } from "./metric.js";
import { splitPython } from "./text-normalize.js";

/**
 * chrF exactly as sacrebleu 2.x computes it with its defaults: character n-grams up to 6 over the text with
 * whitespace removed, no word n-grams (chrF++ is word order 2), beta 2, no lower-casing, no eps smoothing:
 * precision and recall are averaged over the "effective" orders (both sides have n-grams), then combined.
 * Characters are code points (Python str indexing), not UTF-16 units. With several references the one with
 * the best F-score supplies the statistics.
 *
 * Statistics layout: for each order (chars 1..charOrder, then words 1..wordOrder) [hyp_count, ref_count, match].
 */
export interface ChrfOptions {
  charOrder?: number;
  wordOrder?: number;
  beta?: number;
  lowercase?: boolean;
  whitespace?: boolean;
  epsSmoothing?: boolean;
}

const PUNCTS = new Set([..."!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"]);

interface Resolved {
  charOrder: number;
  wordOrder: number;
  beta: number;
  lowercase: boolean;
  whitespace: boolean;
  epsSmoothing: boolean;
}

function resolve(o: ChrfOptions): Resolved {
  return {
    charOrder: o.charOrder ?? 6,
    wordOrder: o.wordOrder ?? 0,
    beta: o.beta ?? 2,
    lowercase: o.lowercase ?? false,
    whitespace: o.whitespace ?? false,
    epsSmoothing: o.epsSmoothing ?? false,
  };
}

function charNgrams(line: string, maxOrder: number, includeWhitespace: boolean): Map<string, number>[] {
  const chars = Array.from(includeWhitespace ? line : splitPython(line).join(""));
  const out: Map<string, number>[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const counts = new Map<string, number>();
    for (let i = 0; i + n <= chars.length; i++) {
      const g = chars.slice(i, i + n).join("");
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    out.push(counts);
  }
  return out;
}

/** sacrebleu's CHRF._remove_punctuation: splits one leading or trailing punctuation mark off each word. */
export function chrfWords(sentence: string): string[] {
  const out: string[] = [];
  for (const w of splitPython(sentence)) {
    const cps = Array.from(w);
    if (cps.length === 1) out.push(w);
    else if (PUNCTS.has(cps[cps.length - 1])) out.push(cps.slice(0, -1).join(""), cps[cps.length - 1]);
    else if (PUNCTS.has(cps[0])) out.push(cps[0], cps.slice(1).join(""));
    else out.push(w);
  }
  return out;
}

function wordNgrams(words: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= words.length; i++) {
    const g = words.slice(i, i + n).join(" ");
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  return counts;
}

function allNgrams(text: string, o: Resolved): Map<string, number>[] {
  const grams = charNgrams(text, o.charOrder, o.whitespace);
  if (o.wordOrder > 0) {
    const words = chrfWords(text);
    for (let n = 1; n <= o.wordOrder; n++) grams.push(wordNgrams(words, n));
  }
  return grams;
}

function matchStats(hyp: Map<string, number>, ref: Map<string, number>): [number, number, number] {
  let match = 0;
  let hypCount = 0;
  for (const [g, c] of hyp) {
    hypCount += c;
    const r = ref.get(g);
    if (r !== undefined) match += Math.min(c, r);
  }
  let refCount = 0;
  for (const c of ref.values()) refCount += c;
  // sacrebleu: don't count hypothesis n-grams of an order the reference has none of.
  return [ref.size > 0 ? hypCount : 0, refCount, match];
}

/** sacrebleu's CHRF._compute_f_score. */
export function chrfFromStats(stats: readonly number[], options: ChrfOptions = {}): number {
  const o = resolve(options);
  const order = o.charOrder + o.wordOrder;
  const eps = 1e-16;
  const factor = o.beta ** 2;
  let score = 0;
  let effective = 0;
  let avgPrec = 0;
  let avgRec = 0;
  for (let i = 0; i < order; i++) {
    const [nHyp, nRef, nMatch] = [stats[3 * i], stats[3 * i + 1], stats[3 * i + 2]];
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effective += 1;
    }
  }
  if (o.epsSmoothing) return (100 * score) / order;
  if (effective === 0) {
    avgPrec = 0;
    avgRec = 0;
  } else {
    avgPrec /= effective;
    avgRec /= effective;
  }
  if (avgPrec + avgRec) return (100 * ((1 + factor) * avgPrec * avgRec)) / (factor * avgPrec + avgRec);
  return 0;
}

/** Per-segment statistics against the best-scoring reference. */
export function chrfSegmentStats(hypothesis: string, references: readonly string[], options: ChrfOptions = {}): number[] {
  const o = resolve(options);
  const prep = (s: string) => (o.lowercase ? s.toLowerCase() : s);
  const hyp = allNgrams(prep(hypothesis), o);
  let best: number[] = [];
  let bestF = -1;
  for (const ref of references) {
    const refGrams = allNgrams(prep(ref), o);
    const stats: number[] = [];
    hyp.forEach((h, i) => stats.push(...matchStats(h, refGrams[i])));
    const f = chrfFromStats(stats, options);
    if (f > bestF) {
      bestF = f;
      best = stats;
    }
  }
  return best;
}

export function sentenceChrf(hypothesis: string, references: readonly string[], options: ChrfOptions = {}): number {
  return chrfFromStats(chrfSegmentStats(hypothesis, references, options), options);
}

export function corpusChrf(hypotheses: readonly string[], references: readonly (readonly string[])[], options: ChrfOptions = {}): number {
  const o = resolve(options);
  const sum = new Array<number>(3 * (o.charOrder + o.wordOrder)).fill(0);
  hypotheses.forEach((h, i) => chrfSegmentStats(h, references[i], options).forEach((v, j) => (sum[j] += v)));
  return chrfFromStats(sum, options);
}

function chrfMetric(name: string, version: string, options: ChrfOptions, describe: string): Metric {
  return {
    name,
    version,
    unit: "score100",
    binary: false,
    describe,
    score: ({ example, output }) => {
      if (example.reference === null) return { value: null, detail: { skipped: "no reference" } };
      const stats = chrfSegmentStats(output, [example.reference], options);
      return { value: chrfFromStats(stats, options), stats };
    },
    aggregate: (summed) => chrfFromStats(summed, options),
  };
}

export const chrfMetricDefault = chrfMetric("chrf", "chrf/1 (sacrebleu 2.x: nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no)", {}, "corpus chrF (sacrebleu defaults)");
export const chrfPlusPlusMetric = chrfMetric(
  "chrf++",
  "chrf++/1 (sacrebleu 2.x: nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no)",
  { wordOrder: 2 },
  "corpus chrF++ (character 6-grams + word bigrams)",
);
