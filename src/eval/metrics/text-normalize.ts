/**
 * SQuAD-style answer normalisation (the official v1.1/v2.0 evaluation script): lower-case, drop ASCII
 * punctuation (Python's string.punctuation), drop the articles a/an/the, collapse whitespace.
 */
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
// Python 3 `\b` is Unicode-aware (word = letters, digits, underscore); JS `\b` is ASCII-only, hence lookarounds.
const ARTICLES = /(?<![\p{L}\p{N}_])(a|an|the)(?![\p{L}\p{N}_])/gu;

/**
 * Python's str.split() whitespace: Unicode Zs plus the bidi WS/B/S controls. Unlike JS \s it includes
 * \x1c-\x1f and \x85 and excludes \ufeff; BLEU/chrF must split exactly like sacrebleu does.
 */
 
export const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** Python's `s.split()`: split on whitespace runs, no empty strings. */
export function splitPython(text: string): string[] {
  return text.split(PY_WHITESPACE).filter((t) => t.length > 0);
}

/** Python's `s.rstrip()` (whitespace only). */
export function rstripPython(text: string): string {
  let end = text.length;
   
  while (end > 0 && /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(text[end - 1])) end -= 1;
  return text.slice(0, end);
}

export function normalizeAnswer(text: string): string {
  const lowered = text.toLowerCase();
  const noPunct = lowered.replace(ASCII_PUNCTUATION, "");
  const noArticles = noPunct.replace(ARTICLES, " ");
  return splitPython(noArticles).join(" ");
}
