/**
 * Input drift between the training set and live traffic: Population Stability Index over input length (bins at
 * the training set's deciles), script/language, and label distributions. PSI < 0.1 stable, 0.1–0.25 moderate,
 * > 0.25 significant (the usual rule of thumb).
 */
const EPS = 1e-4;

export function psi(expected: readonly number[], actual: readonly number[]): number {
  const se = expected.reduce((a, b) => a + b, 0) || 1;
  const sa = actual.reduce((a, b) => a + b, 0) || 1;
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i] / se, EPS);
    const a = Math.max(actual[i] / sa, EPS);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

/** Decile edges of the reference lengths; values are binned by the first edge they do not exceed. */
export function lengthEdges(reference: readonly number[], bins = 10): number[] {
  const s = [...reference].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) edges.push(s[Math.min(s.length - 1, Math.floor((i * s.length) / bins))]);
  return [...new Set(edges)];
}

export function histogram(values: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array(edges.length + 1).fill(0) as number[];
  for (const v of values) {
    let i = 0;
    while (i < edges.length && v > edges[i]) i++;
    counts[i] += 1;
  }
  return counts;
}

/** The dominant writing system of a text: a cheap, dependency-free stand-in for language. */
export function scriptOf(text: string): string {
  const counts: Record<string, number> = {};
  for (const ch of text.slice(0, 2000)) {
    const c = ch.codePointAt(0)!;
    const s =
      c < 0x250 ? (/[A-Za-z\u00C0-\u024F]/.test(ch) ? "latin" : null)
      : c >= 0x400 && c < 0x530 ? "cyrillic"
      : c >= 0x590 && c < 0x600 ? "hebrew"
      : c >= 0x600 && c < 0x700 ? "arabic"
      : c >= 0x900 && c < 0x980 ? "devanagari"
      : (c >= 0x3040 && c < 0x3100) ? "japanese"
      : (c >= 0x4e00 && c < 0xa000) ? "cjk"
      : c >= 0xac00 && c < 0xd7b0 ? "hangul"
      : c >= 0x370 && c < 0x400 ? "greek"
      : null;
    if (s) counts[s] = (counts[s] ?? 0) + 1;
  }
  let best = "other";
  let n = 0;
  for (const [k, v] of Object.entries(counts)) if (v > n) [best, n] = [k, v];
  return best;
}

export function categoricalPsi(reference: readonly string[], live: readonly string[]): { psi: number; reference: Record<string, number>; live: Record<string, number> } {
  const keys = [...new Set([...reference, ...live])].sort();
  const count = (xs: readonly string[]) => Object.fromEntries(keys.map((k) => [k, xs.filter((x) => x === k).length]));
  const r = count(reference);
  const l = count(live);
  return { psi: psi(keys.map((k) => r[k]), keys.map((k) => l[k])), reference: r, live: l };
}

export type DriftLevel = "stable" | "moderate" | "significant" | "insufficient";

/** The usual PSI rule of thumb. */
export function levelOf(psiValue: number): Exclude<DriftLevel, "insufficient"> {
  return psiValue > 0.25 ? "significant" : psiValue > 0.1 ? "moderate" : "stable";
}

/**
 * Below these sample sizes a PSI says nothing: with 4 requests spread over 10 length bins most bins are empty and
 * the index comes out "significant" whatever the traffic. Defaults: gateway.drift.minRequests / minReference.
 */
export interface DriftMinimums {
  live: number;
  reference: number;
}

export const DEFAULT_DRIFT_MINIMUMS: DriftMinimums = { live: 100, reference: 100 };

export interface DriftVerdict {
  level: DriftLevel;
  /** Why the level is "insufficient", e.g. "insufficient data (n=4, need ≥ 100)"; null otherwise. */
  note: string | null;
}

export interface DriftReport {
  referenceCount: number;
  liveCount: number;
  minimums: DriftMinimums;
  length: { psi: number; edges: number[]; reference: number[]; live: number[] } & DriftVerdict;
  language: { psi: number; reference: Record<string, number>; live: Record<string, number> } & DriftVerdict;
  /** Over the records / requests that carry a label; their counts are checked against the same minimums. */
  label: ({ psi: number; reference: Record<string, number>; live: Record<string, number> } & DriftVerdict) | null;
}

export function verdict(psiValue: number, liveCount: number, referenceCount: number, minimums: DriftMinimums): DriftVerdict {
  if (liveCount < minimums.live) return { level: "insufficient", note: `insufficient data (n=${liveCount}, need ≥ ${minimums.live})` };
  if (referenceCount < minimums.reference) {
    return { level: "insufficient", note: `insufficient data (training n=${referenceCount}, need ≥ ${minimums.reference})` };
  }
  return { level: levelOf(psiValue), note: null };
}

/** The largest PSI among the measures with enough data: what a drift_psi alert rule compares (undefined: none). */
export function alertablePsi(report: DriftReport): number | undefined {
  const judged = [report.length, report.language, report.label].filter((m) => m !== null && m.level !== "insufficient").map((m) => m!.psi);
  return judged.length ? Math.max(...judged) : undefined;
}

/** `reference`/`live`: the last user message of each training record / logged request, and optional labels. */
export function measureDrift(
  reference: { text: string; label?: string }[],
  live: { text: string; label?: string }[],
  minimums: DriftMinimums = DEFAULT_DRIFT_MINIMUMS,
): DriftReport {
  const refLen = reference.map((r) => r.text.length);
  const liveLen = live.map((r) => r.text.length);
  const edges = lengthEdges(refLen);
  const refH = histogram(refLen, edges);
  const liveH = histogram(liveLen, edges);
  const refLabels = reference.flatMap((r) => (r.label ? [r.label] : []));
  const liveLabels = live.flatMap((r) => (r.label ? [r.label] : []));
  const lengthPsi = psi(refH, liveH);
  const language = categoricalPsi(reference.map((r) => scriptOf(r.text)), live.map((r) => scriptOf(r.text)));
  const label = refLabels.length && liveLabels.length ? categoricalPsi(refLabels, liveLabels) : null;
  return {
    referenceCount: reference.length,
    liveCount: live.length,
    minimums,
    length: { psi: lengthPsi, edges, reference: refH, live: liveH, ...verdict(lengthPsi, live.length, reference.length, minimums) },
    language: { ...language, ...verdict(language.psi, live.length, reference.length, minimums) },
    label: label && { ...label, ...verdict(label.psi, liveLabels.length, refLabels.length, minimums) },
  };
}
