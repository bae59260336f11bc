import { createRandom } from "../../runtime/index.js";
import { createDetector } from "./dedupe.js";
import type { DetectionResult } from "./detector.js";
import { DetectionOptionsSchema } from "./options.js";
import { parseOptions } from "./parse-options.js";
import { jaccardSorted, shingleHashes } from "./shingles.js";
import { z } from "zod";

export interface DetectorQuality {
  sample: number;
  pairs: number;
  /** Pairs whose exact shingle Jaccard is at or above the threshold (brute force over all sample pairs). */
  truePairs: number;
  /** Pairs the detector put in one cluster. */
  detectedPairs: number;
  truePositives: number;
  precision: number;
  recall: number;
  threshold: number;
  bruteForceMs: number;
  detectorMs: number;
}

/**
 * Precision and recall of the MinHash/LSH detector against brute-force Jaccard over every pair of a sample of
 * normalised texts. A pair counts as detected when the detector puts both texts in one cluster, so transitive
 * chains (a~b~c with a,c below the threshold) count against precision: this measures what dedupe acts on.
 * Empty texts are skipped. O(sample²) — keep the sample in the low thousands.
 */
/** Detection options; other keys (a dedupe plan's `keep`, a leakage plan's `priority`) are ignored. */
const QualityOptionsSchema = z.object(DetectionOptionsSchema.shape);

export function measureDetectorQuality(texts: string[], input: z.input<typeof QualityOptionsSchema> = {}): DetectorQuality {
  const options = parseOptions(QualityOptionsSchema, input, "DATA_DEDUPE_OPTIONS");
  let words: Uint32Array = new Uint32Array(256);
  let out: Uint32Array = new Uint32Array(256);
  const sets: Uint32Array[] = [];
  const kept: string[] = [];
  for (const text of texts) {
    const r = shingleHashes(text, options.ngram, words, out);
    words = r.words;
    out = r.out;
    if (r.count === 0) continue;
    sets.push(r.out.slice(0, r.count));
    kept.push(text);
  }
  const n = sets.length;
  let t = performance.now();
  const detector = createDetector({ ...options, near: true });
  for (const text of kept) detector.add(text);
  const d = detector.finish();
  const detectorMs = performance.now() - t;
  t = performance.now();
  let truePairs = 0;
  let detectedPairs = 0;
  let truePositives = 0;
  for (let i = 0; i < n; i++) {
    const a = sets[i];
    for (let j = i + 1; j < n; j++) {
      const b = sets[j];
      const same = d.clusterOf[i] >= 0 && d.clusterOf[i] === d.clusterOf[j];
      if (same) detectedPairs++;
      const small = Math.min(a.length, b.length);
      if (small < options.threshold * Math.max(a.length, b.length)) continue;
      if (jaccardSorted(a, b) >= options.threshold) {
        truePairs++;
        if (same) truePositives++;
      }
    }
  }
  const bruteForceMs = performance.now() - t;
  return {
    sample: n,
    pairs: (n * (n - 1)) / 2,
    truePairs,
    detectedPairs,
    truePositives,
    precision: detectedPairs === 0 ? 1 : truePositives / detectedPairs,
    recall: truePairs === 0 ? 1 : truePositives / truePairs,
    threshold: options.threshold,
    bruteForceMs: Math.round(bruteForceMs),
    detectorMs: Math.round(detectorMs),
  };
}

/**
 * Picks record indices for a quality sample from a full run: half from duplicate clusters (whole clusters,
 * so positive pairs exist) and half uniformly at random (so unrelated pairs and misses can show). Pairs are
 * judged independently of how they were picked, but recall can only see misses among sampled records.
 */
export function selectQualitySample(d: DetectionResult, size: number, seed: number): Uint8Array {
  const random = createRandom(`quality:${seed}`);
  const mask = new Uint8Array(d.count);
  const clusterCount = d.clusterOffsets.length - 1;
  let chosen = 0;
  const half = Math.floor(size / 2);
  for (let tries = 0; clusterCount > 0 && chosen < half && tries < clusterCount * 2; tries++) {
    const c = random.int(clusterCount);
    const members = d.clusterMembers.subarray(d.clusterOffsets[c], d.clusterOffsets[c + 1]);
    for (const m of members.subarray(0, Math.min(members.length, 8))) {
      if (mask[m] === 0) {
        mask[m] = 1;
        chosen++;
      }
    }
  }
  for (let tries = 0; chosen < size && tries < size * 4; tries++) {
    const i = random.int(d.count);
    if (mask[i] === 0) {
      mask[i] = 1;
      chosen++;
    }
  }
  return mask;
}
