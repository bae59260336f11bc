import { combine32, hashRange32, mix32 } from "./hash32.js";

const WORD_SEED = 0x5bd1e995;

function isWordCode(c: number): boolean {
  // ASCII letters/digits fast path; every non-ASCII code unit counts as part of a word (scripts without
  // spaces then form long "words", which still shingle correctly at the character-run level).
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c > 127 || c === 95;
}

/**
 * Hashes of the word n-gram shingles of normalised text, sorted ascending and unique, in `out` (reused to
 * avoid allocation); returns the count. Fewer than n words give one shingle of all of them; no words, zero.
 * Words are maximal runs of letters/digits/underscore, so punctuation does not make texts differ.
 */
export function shingleHashes(text: string, n: number, words: Uint32Array, out: Uint32Array): { count: number; words: Uint32Array; out: Uint32Array } {
  let wc = 0;
  let i = 0;
  const len = text.length;
  while (i < len) {
    while (i < len && !isWordCode(text.charCodeAt(i))) i++;
    if (i >= len) break;
    const start = i;
    while (i < len && isWordCode(text.charCodeAt(i))) i++;
    if (wc === words.length) {
      const grown = new Uint32Array(words.length * 2);
      grown.set(words);
      words = grown;
    }
    words[wc++] = hashRange32(text, start, i, WORD_SEED);
  }
  const shingleCount = wc === 0 ? 0 : Math.max(1, wc - n + 1);
  if (out.length < shingleCount) out = new Uint32Array(Math.max(shingleCount, out.length * 2));
  const span = Math.min(n, wc);
  for (let s = 0; s < shingleCount; s++) {
    let h = span;
    for (let k = 0; k < span; k++) h = combine32(h, words[s + k]);
    out[s] = mix32(h);
  }
  const view = out.subarray(0, shingleCount);
  view.sort();
  let unique = 0;
  for (let s = 0; s < shingleCount; s++) {
    if (s === 0 || view[s] !== view[s - 1]) view[unique++] = view[s];
  }
  return { count: unique, words, out };
}

/** Jaccard similarity of two sorted unique hash sets. */
export function jaccardSorted(a: Uint32Array, b: Uint32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x === y) {
      inter++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return inter / (a.length + b.length - inter);
}
