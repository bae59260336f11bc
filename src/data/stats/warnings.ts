import type { DatasetStats } from "./collector.js";

export interface StatsWarning {
  code: string;
  severity: "info" | "warn" | "error";
  message: string;
  guidance: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Findings that need a user's attention, each with what to do about it. Thresholds are documented inline. */
export function statsWarnings(s: DatasetStats): StatsWarning[] {
  const out: StatsWarning[] = [];
  if (s.records < 10) {
    out.push({ code: "TOO_FEW_EXAMPLES", severity: "error", message: `${s.records} examples; OpenAI fine-tuning requires at least 10`, guidance: "collect more examples before training: simple tasks often need 100–500, complex ones thousands" });
  } else if (s.records < 100) {
    out.push({ code: "FEW_EXAMPLES", severity: "warn", message: `only ${s.records} examples`, guidance: "simple tasks (classification, fixed formats) often need 100–500 examples; complex ones (open-ended reasoning, new domains) thousands. Try the best prompt first and fine-tune once you have more data" });
  }
  if (s.overLimit > 0) {
    const rate = s.overLimit / Math.max(1, s.records);
    out.push({ code: "OVER_CONTEXT_LIMIT", severity: rate > 0.05 ? "error" : "warn", message: `${s.overLimit} examples (${pct(rate)}) exceed ${s.contextLimit} tokens`, guidance: "providers truncate or reject over-length examples: split long conversations, trim documents, or pick a model with a larger context (`tunekit data clean --max-chars`)" });
  }
  if (s.label) {
    const values = Object.values(s.label.counts);
    const min = Math.min(...values);
    if (s.label.imbalance >= 10) {
      out.push({ code: "LABEL_IMBALANCE", severity: "warn", message: `label "${s.label.field}" is imbalanced: the largest class is ${s.label.imbalance}× the smallest`, guidance: "the model will over-predict frequent classes: collect or synthesise examples of rare classes, downsample frequent ones, and stratify the split (`tunekit data split --stratify " + s.label.field + "`)" });
    }
    if (min < 10) {
      const rare = Object.entries(s.label.counts).filter(([, c]) => c < 10).map(([k]) => k);
      out.push({ code: "RARE_LABELS", severity: "warn", message: `${rare.length} label value(s) have fewer than 10 examples: ${rare.slice(0, 5).join(", ")}${rare.length > 5 ? ", …" : ""}`, guidance: "aim for at least 10–20 examples per class so each can appear in training and evaluation" });
    }
    if (s.label.missing > 0) out.push({ code: "LABEL_MISSING", severity: "info", message: `${s.label.missing} records have no "${s.label.field}"`, guidance: "label them or they will form their own stratum when splitting" });
  }
  if (s.duplicates && s.duplicates.rate >= 0.05) {
    out.push({ code: "DUPLICATES", severity: "warn", message: `${pct(s.duplicates.rate)} of records are exact or near duplicates (${s.duplicates.exact} exact, ${s.duplicates.near} near)`, guidance: "duplicates overweight some examples and leak between splits: run `tunekit data dedupe`" });
  }
  if (s.pii && s.pii.recordsWithFindings > 0) {
    const types = Object.entries(s.pii.byType).filter(([, c]) => c > 0).map(([t, c]) => `${t} ${c}`).join(", ");
    out.push({ code: "PII_FOUND", severity: "warn", message: `${s.pii.recordsWithFindings} records (${pct(s.pii.rate)}) contain PII or secrets: ${types}`, guidance: "a fine-tuned model can reproduce training data verbatim: run `tunekit data pii NAME --mode redact` (or drop) before training" });
  }
  const assistant = s.messagesByRole.assistant ?? 0;
  if (s.kinds.chat > 0 && assistant === 0) {
    out.push({ code: "NO_ASSISTANT_TURNS", severity: "error", message: "no assistant messages: there is nothing to learn from", guidance: "map the response column to the assistant role on import (`--map assistant=…`)" });
  }
  if (s.diversity.distinct2 > 0 && s.diversity.distinct2 < 0.1 && s.records >= 100) {
    out.push({ code: "LOW_DIVERSITY", severity: "warn", message: `low lexical diversity (distinct-2 ${s.diversity.distinct2})`, guidance: "many examples repeat the same phrasing; the model will learn the template rather than the task. Add varied real examples" });
  }
  const langs = Object.entries(s.languages).filter(([l]) => l !== "und");
  if (langs.length > 1) {
    const [top, topCount] = langs[0];
    const other = s.records - topCount - (s.languages.und ?? 0);
    if (other / Math.max(1, s.records) >= 0.05) out.push({ code: "MIXED_LANGUAGES", severity: "info", message: `language mix: ${langs.slice(0, 4).map(([l, c]) => `${l} ${c}`).join(", ")}`, guidance: `${top} dominates; make sure the evaluation set covers every language you serve` });
  }
  if (s.tokenizer.estimate) out.push({ code: "TOKENS_ESTIMATED", severity: "info", message: "token counts are estimates (characters / 4)", guidance: "pass --model (e.g. gpt-4o-mini) for real tokenizer counts" });
  return out;
}
