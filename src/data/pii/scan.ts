import { DETECTORS } from "./detectors.js";
import type { PiiOptions, PiiType } from "./options.js";

export interface PiiMatch {
  type: PiiType;
  start: number;
  end: number;
  /** The matched text — internal only: never written to reports or audits. */
  value: string;
}

const PRIORITY = new Map(DETECTORS.map((d, i) => [d.type, i]));
/** Placeholders we wrote ourselves (<EMAIL_1>) are not scanned again. */
const PLACEHOLDER = /<[A-Z_]+_\d+>/g;

/**
 * All PII/secret matches in `text`, non-overlapping, in order. Overlaps resolve by detector priority, then by
 * length (an email wins over the IP-looking part inside it; a card wins over a phone-shaped slice of it).
 */
export function scanText(text: string, options: Pick<PiiOptions, "types" | "entropyThreshold" | "entropyMinLength">): PiiMatch[] {
  const enabled = new Set(options.types);
  const found: PiiMatch[] = [];
  const blocked: [number, number][] = [];
  for (const m of text.matchAll(PLACEHOLDER)) blocked.push([m.index, m.index + m[0].length]);
  for (const detector of DETECTORS) {
    if (!enabled.has(detector.type)) continue;
    detector.pattern.lastIndex = 0;
    for (const m of text.matchAll(detector.pattern)) {
      if (detector.accept && !detector.accept(m as RegExpExecArray, text, options as PiiOptions)) continue;
      const start = m.index;
      const end = start + m[0].length;
      if (blocked.some(([a, b]) => start < b && a < end)) continue;
      found.push({ type: detector.type, start, end, value: m[0] });
    }
  }
  found.sort((a, b) => a.start - b.start || PRIORITY.get(a.type)! - PRIORITY.get(b.type)! || b.end - a.end);
  const out: PiiMatch[] = [];
  for (const f of found) {
    const last = out[out.length - 1];
    if (last && f.start < last.end) {
      const better = PRIORITY.get(f.type)! < PRIORITY.get(last.type)! || (f.type === last.type && f.end - f.start > last.end - last.start);
      if (better) out[out.length - 1] = f;
      continue;
    }
    out.push(f);
  }
  return out;
}
