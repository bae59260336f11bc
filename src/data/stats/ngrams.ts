import { hashRange32, combine32 } from "../dedupe/hash32.js";

/**
 * Lexical diversity in bounded memory: distinct-1 and distinct-2 (unique n-grams / total n-grams, over
 * lower-cased word tokens) counted through 32-bit hashes in sets, and the most frequent n-grams through the
 * Space-Saving heavy-hitters sketch (`capacity` counters; counts of reported items are upper bounds, exact
 * whenever the item stayed in the sketch from its first occurrence, which is the case for frequent n-grams).
 */
export class NgramStats {
  private readonly unigrams = new Set<number>();
  private readonly bigrams = new Set<number>();
  private totalUni = 0;
  private totalBi = 0;
  private readonly heavy = new Map<string, number>();

  constructor(private readonly n = 3, private readonly capacity = 4096) {}

  add(text: string): void {
    const words = text.toLowerCase().match(/[\p{L}\p{N}']+/gu);
    if (!words) return;
    let prev = 0;
    for (let i = 0; i < words.length; i++) {
      const h = hashRange32(words[i], 0, words[i].length, 17);
      this.unigrams.add(h);
      this.totalUni++;
      if (i > 0) {
        this.bigrams.add(combine32(prev, h));
        this.totalBi++;
      }
      prev = h;
      if (i + this.n <= words.length) this.count(words.slice(i, i + this.n).join(" "));
    }
  }

  private count(gram: string): void {
    const c = this.heavy.get(gram);
    if (c !== undefined) {
      this.heavy.set(gram, c + 1);
      return;
    }
    if (this.heavy.size < this.capacity) {
      this.heavy.set(gram, 1);
      return;
    }
    // Space-Saving: evict the minimum; the newcomer inherits its count + 1. Evict in batches to amortise.
    const entries = [...this.heavy.entries()].sort((a, b) => a[1] - b[1]);
    const floor = entries[0][1];
    for (const [k] of entries.slice(0, Math.max(1, this.capacity >> 4))) this.heavy.delete(k);
    this.heavy.set(gram, floor + 1);
  }

  result(top = 20): { distinct1: number; distinct2: number; unigrams: number; bigrams: number; topNgrams: { ngram: string; count: number }[]; n: number } {
    return {
      distinct1: this.totalUni === 0 ? 0 : round(this.unigrams.size / this.totalUni),
      distinct2: this.totalBi === 0 ? 0 : round(this.bigrams.size / this.totalBi),
      unigrams: this.totalUni,
      bigrams: this.totalBi,
      n: this.n,
      topNgrams: [...this.heavy.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top).map(([ngram, count]) => ({ ngram, count })),
    };
  }
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
