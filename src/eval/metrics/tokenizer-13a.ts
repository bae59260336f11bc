import { splitPython } from "./text-normalize.js";

/**
 * sacrebleu's default "13a" tokenizer (mteval-v13a.pl), step for step: drop <skipped>, join hyphenated line
 * breaks, unescape four HTML entities, then the regexp tokenizer over " line ". Python's re.sub and JS's
 * global replace both substitute non-overlapping matches left to right, so the rules carry over verbatim.
 */
const RULES: [RegExp, string][] = [
  // language-dependent part (assuming Western languages)
  [/([{-~[-` -&(-+:-@/])/g, " $1 "],
  // tokenize period and comma unless preceded by a digit
  [/([^0-9])([.,])/g, "$1 $2 "],
  // tokenize period and comma unless followed by a digit
  [/([.,])([^0-9])/g, " $1 $2"],
  // tokenize dash when preceded by a digit
  [/([0-9])(-)/g, "$1 $2 "],
];

export function tokenize13a(line: string): string {
  let s = line.replaceAll("<skipped>", "").replaceAll("-\n", "").replaceAll("\n", " ");
  if (s.includes("&")) {
    s = s.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
  }
  s = ` ${s} `;
  for (const [re, repl] of RULES) s = s.replace(re, repl);
  return splitPython(s).join(" ");
}
