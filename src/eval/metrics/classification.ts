import type { Metric } from "./metric.js";

/**
 * Classification: an output maps to a label when, after trimming and case-folding, it equals the label
 * ("exact"), or — in "contains" mode — when a label occurs in it as a whole word sequence (underscores and
 * hyphens in labels also match spaces). Several labels found: the longest wins (so "card_arrival" beats
 * "card"), then the earliest. Nothing found: UNMAPPED, which counts as wrong and gets its own confusion column.
 */
export const UNMAPPED = "(unmapped)";
export type LabelMatchMode = "exact" | "contains";

function fold(text: string): string {
  return text.trim().toLowerCase().replace(/[\s_-]+/g, " ");
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function mapOutputToLabel(output: string, labels: readonly string[], mode: LabelMatchMode = "contains"): string {
  const folded = fold(output.replace(/^["'`]+|["'`.]+$/g, ""));
  for (const l of labels) if (fold(l) === folded) return l;
  if (mode === "exact") return UNMAPPED;
  const text = fold(output);
  let best: { label: string; len: number; at: number } | undefined;
  for (const l of labels) {
    const f = fold(l);
    if (!f) continue;
    const m = new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegex(f)}(?![\\p{L}\\p{N}])`, "u").exec(text);
    if (!m) continue;
    if (!best || f.length > best.len || (f.length === best.len && m.index < best.at)) best = { label: l, len: f.length, at: m.index };
  }
  return best?.label ?? UNMAPPED;
}

export interface ConfusionMatrix {
  /** Row = true label, column = predicted label; columns add UNMAPPED when any output failed to map. */
  labels: string[];
  predicted: string[];
  counts: number[][];
}

export function confusionMatrix(pairs: readonly { truth: string; predicted: string }[], labels: readonly string[]): ConfusionMatrix {
  const rows = [...labels];
  const cols = pairs.some((p) => p.predicted === UNMAPPED) ? [...labels, UNMAPPED] : [...labels];
  const counts = rows.map(() => new Array<number>(cols.length).fill(0));
  const ri = new Map(rows.map((l, i) => [l, i]));
  const ci = new Map(cols.map((l, i) => [l, i]));
  for (const p of pairs) {
    const r = ri.get(p.truth);
    const c = ci.get(p.predicted);
    if (r !== undefined && c !== undefined) counts[r][c] += 1;
  }
  return { labels: rows, predicted: cols, counts };
}

export interface ClassReport {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Macro-F1 from per-label [tp, fp, fn] triples; labels with no support and no predictions are left out (sklearn zero_division=0 otherwise). */
export function macroF1FromStats(stats: readonly number[], labels: readonly string[]): { macroF1: number; perClass: ClassReport[] } {
  const perClass: ClassReport[] = [];
  labels.forEach((label, i) => {
    const [tp, fp, fn] = [stats[3 * i], stats[3 * i + 1], stats[3 * i + 2]];
    if (tp + fp + fn === 0) return;
    const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
    const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ label, precision, recall, f1, support: tp + fn });
  });
  const macroF1 = perClass.length === 0 ? 0 : perClass.reduce((s, c) => s + c.f1, 0) / perClass.length;
  return { macroF1, perClass };
}

function truthLabel(reference: string | null, labels: readonly string[]): string | null {
  if (reference === null) return null;
  const f = fold(reference);
  return labels.find((l) => fold(l) === f) ?? null;
}

/** Accuracy and macro-F1 over a fixed label set; each example's detail records the mapped label. */
export function createClassificationMetrics(labels: readonly string[], mode: LabelMatchMode = "contains"): { accuracy: Metric; macroF1: Metric } {
  const version = `(${mode} mapping, ${labels.length} labels)`;
  const accuracy: Metric = {
    name: "accuracy",
    version: `accuracy/1 ${version}`,
    unit: "fraction",
    binary: true,
    describe: "share of outputs that map to the reference label",
    score: ({ example, output }) => {
      const truth = truthLabel(example.reference, labels);
      if (truth === null) return { value: null, detail: { skipped: `reference "${example.reference}" is not one of the labels` } };
      const predicted = mapOutputToLabel(output, labels, mode);
      return { value: predicted === truth ? 1 : 0, detail: { truth, predicted } };
    },
  };
  const macroF1: Metric = {
    name: "macro_f1",
    version: `macro_f1/1 ${version}`,
    unit: "fraction",
    binary: false,
    describe: "unweighted mean of per-label F1",
    score: ({ example, output }) => {
      const truth = truthLabel(example.reference, labels);
      if (truth === null) return { value: null };
      const predicted = mapOutputToLabel(output, labels, mode);
      const stats = new Array<number>(3 * labels.length).fill(0);
      const t = labels.indexOf(truth);
      const p = labels.indexOf(predicted);
      if (t === p) stats[3 * t] = 1;
      else {
        stats[3 * t + 2] = 1; // fn for the true label
        if (p >= 0) stats[3 * p + 1] = 1; // fp for the predicted label
      }
      return { value: t === p ? 1 : 0, stats };
    },
    aggregate: (summed) => macroF1FromStats(summed, labels).macroF1,
  };
  return { accuracy, macroF1 };
}
