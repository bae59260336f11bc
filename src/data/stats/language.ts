/**
 * A small language identifier for the language-mix statistic: the dominant Unicode script first (Cyrillic,
 * Arabic, CJK, Hangul, Devanagari, Greek, Hebrew, Thai), then, for Latin script, stopword hits for the
 * languages support datasets most often mix. Accurate on sentences, not on two-word fragments — texts with
 * fewer than 2 stopword hits are "und" (undetermined) rather than a guess.
 */
const STOPWORDS: Record<string, string[]> = {
  en: ["the", "and", "is", "to", "of", "a", "in", "that", "it", "you", "for", "my", "i", "this", "with", "have", "can", "how", "what", "are", "not", "do", "be", "on"],
  es: ["el", "la", "de", "que", "y", "en", "los", "se", "del", "las", "por", "un", "una", "para", "con", "no", "es", "mi", "cómo", "qué", "lo", "está"],
  fr: ["le", "la", "les", "de", "des", "et", "est", "un", "une", "que", "pour", "dans", "pas", "je", "vous", "mon", "ma", "ce", "sur", "avec", "comment", "il"],
  de: ["der", "die", "das", "und", "ist", "nicht", "ich", "zu", "den", "mit", "ein", "eine", "auf", "für", "mein", "meine", "wie", "von", "sie", "es", "kann", "wird"],
  it: ["il", "di", "che", "è", "e", "la", "per", "un", "una", "non", "sono", "mi", "come", "del", "della", "con", "lo", "gli", "ho", "questo"],
  pt: ["o", "de", "que", "e", "do", "da", "em", "um", "uma", "para", "não", "com", "os", "meu", "minha", "como", "é", "se", "na", "no", "você"],
  nl: ["de", "het", "een", "en", "van", "ik", "is", "niet", "dat", "op", "met", "voor", "mijn", "hoe", "zijn", "je", "wat", "kan", "er"],
};
const WORD_LANGS = new Map<string, string[]>();
for (const [lang, words] of Object.entries(STOPWORDS)) for (const w of words) WORD_LANGS.set(w, [...(WORD_LANGS.get(w) ?? []), lang]);

const SCRIPTS: [string, RegExp][] = [
  ["ja", /[\p{Script=Hiragana}\p{Script=Katakana}]/gu],
  ["ko", /\p{Script=Hangul}/gu],
  ["zh", /\p{Script=Han}/gu],
  ["ru", /\p{Script=Cyrillic}/gu],
  ["ar", /\p{Script=Arabic}/gu],
  ["hi", /\p{Script=Devanagari}/gu],
  ["el", /\p{Script=Greek}/gu],
  ["he", /\p{Script=Hebrew}/gu],
  ["th", /\p{Script=Thai}/gu],
];

export function detectLanguage(text: string): string {
  const sample = text.length > 2000 ? text.slice(0, 2000) : text;
  const latin = (sample.match(/\p{Script=Latin}/gu) ?? []).length;
  let bestScript = "";
  let bestCount = 0;
  for (const [lang, re] of SCRIPTS) {
    const count = (sample.match(re) ?? []).length;
    if (count > bestCount) [bestScript, bestCount] = [lang, count];
  }
  // Japanese text mixes kana with Han; any kana at all means Japanese rather than Chinese.
  if (bestScript === "zh" && /[\p{Script=Hiragana}\p{Script=Katakana}]/u.test(sample)) bestScript = "ja";
  if (bestCount > latin) return bestScript;
  const scores = new Map<string, number>();
  let hits = 0;
  for (const word of sample.toLowerCase().match(/\p{L}+/gu) ?? []) {
    const langs = WORD_LANGS.get(word);
    if (!langs) continue;
    hits++;
    for (const l of langs) scores.set(l, (scores.get(l) ?? 0) + 1 / langs.length);
  }
  if (hits < 2) return "und";
  return [...scores.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
}
