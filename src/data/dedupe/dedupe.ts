import { DataError } from "../../errors/index.js";
import type { DatasetRecord } from "../record.js";
import { DuplicateDetector, type DetectionResult } from "./detector.js";
import { normaliseText, recordText } from "./normalize.js";
import { DedupeOptionsSchema, type DedupeOptions, type DedupeOptionsInput } from "./options.js";
import { parseOptions } from "./parse-options.js";
import { recordId, sampleText } from "./record-id.js";

export interface ClusterReport {
  cluster: number;
  kind: "exact" | "near";
  size: number;
  /** Ids of all members (metadata.id or "#index"), representative first. */
  ids: string[];
  kept: string;
  similarity: { min: number; max: number };
  samples: { id: string; text: string }[];
}

export interface DedupeReport {
  transform: "dedupe";
  options: DedupeOptions;
  lsh: { bands: number; rows: number };
  input: number;
  kept: number;
  removed: { exact: number; near: number; total: number };
  clusters: { total: number; exact: number; near: number; largest: number };
  detector: DetectionResult["stats"];
  reported: ClusterReport[];
}

export interface DedupePlan {
  options: DedupeOptions;
  detection: DetectionResult;
  /** 1 = keep the record at this index. */
  keep: Uint8Array;
  /** Per cluster: the index of the record kept. */
  representative: Uint32Array;
  report: DedupeReport;
}

export function createDetector(options: Omit<DedupeOptions, "keep">): DuplicateDetector {
  const lsh = options.bands !== undefined || options.rows !== undefined
    ? { bands: options.bands ?? Math.floor(options.numPerm / (options.rows ?? 1)), rows: options.rows ?? Math.floor(options.numPerm / (options.bands ?? 1)) }
    : undefined;
  return new DuplicateDetector({ threshold: options.threshold, numPerm: options.numPerm, ngram: options.ngram, seed: options.seed, near: options.near, lsh });
}

function clusterMembers(d: DetectionResult, c: number): Uint32Array {
  return d.clusterMembers.subarray(d.clusterOffsets[c], d.clusterOffsets[c + 1]);
}

export function clusterKind(d: DetectionResult, c: number): "exact" | "near" {
  const members = clusterMembers(d, c);
  for (let k = 1; k < members.length; k++) if (d.exactOf[members[k]] < 0) return "near";
  return "exact";
}

/** Pass 1: detect duplicates and decide which record of each cluster stays. Holds only compact arrays. */
export async function planDedupe(
  records: AsyncIterable<DatasetRecord> | Iterable<DatasetRecord>,
  input: DedupeOptionsInput = {},
): Promise<DedupePlan> {
  const options = parseOptions(DedupeOptionsSchema, input, "DATA_DEDUPE_OPTIONS");
  const detector = createDetector(options);
  for await (const record of records) detector.add(normaliseText(recordText(record, options)));
  const d = detector.finish();
  const clusterCount = d.clusterOffsets.length - 1;
  const keep = new Uint8Array(d.count).fill(1);
  const representative = new Uint32Array(clusterCount);
  const removed = { exact: 0, near: 0, total: 0 };
  let exactClusters = 0;
  let largest = 0;
  const exactRoot = (i: number): number => (d.exactOf[i] >= 0 ? d.exactOf[i] : i);
  for (let c = 0; c < clusterCount; c++) {
    const members = clusterMembers(d, c);
    largest = Math.max(largest, members.length);
    if (clusterKind(d, c) === "exact") exactClusters++;
    let rep = members[0];
    if (options.keep === "longest") for (const m of members) if (d.lengths[m] > d.lengths[rep]) rep = m;
    representative[c] = rep;
    for (const m of members) {
      if (m === rep) continue;
      keep[m] = 0;
      removed.total++;
      if (exactRoot(m) === exactRoot(rep)) removed.exact++;
      else removed.near++;
    }
  }
  return {
    options,
    detection: d,
    keep,
    representative,
    report: {
      transform: "dedupe",
      options,
      lsh: d.lsh,
      input: d.count,
      kept: d.count - removed.total,
      removed,
      clusters: { total: clusterCount, exact: exactClusters, near: clusterCount - exactClusters, largest },
      detector: d.stats,
      reported: [],
    },
  };
}

/**
 * Collects ids and sample texts of the first `maxClustersReported` clusters while records stream past.
 * Shared by dedupe and the leakage check.
 */
export class ClusterSampler {
  private readonly wanted: Map<number, ClusterReport>;
  constructor(
    private readonly d: DetectionResult,
    clusters: number[],
    private readonly representative: (c: number) => number,
    private readonly options: { sampleChars: number; includeSystem: boolean },
  ) {
    this.wanted = new Map();
    for (const c of clusters) {
      const kept = representative(c);
      this.wanted.set(c, {
        cluster: c,
        kind: clusterKind(d, c),
        size: clusterMembers(d, c).length,
        ids: [],
        kept: "",
        similarity: { min: round3(d.clusterMinSimilarity[c]), max: round3(d.clusterMaxSimilarity[c]) },
        samples: [],
      });
      void kept;
    }
  }

  observe(record: DatasetRecord, index: number): void {
    const c = this.d.clusterOf[index];
    if (c < 0) return;
    const entry = this.wanted.get(c);
    if (!entry) return;
    const id = recordId(record, index);
    if (index === this.representative(c)) {
      entry.kept = id;
      entry.ids.unshift(id);
      entry.samples.unshift({ id, text: sampleText(recordText(record, this.options), this.options.sampleChars) });
      if (entry.samples.length > 3) entry.samples.pop();
    } else {
      entry.ids.push(id);
      if (entry.samples.length < 3) entry.samples.push({ id, text: sampleText(recordText(record, this.options), this.options.sampleChars) });
    }
  }

  reports(): ClusterReport[] {
    return [...this.wanted.values()];
  }
}

/** The second pass saw a different number of records than the plan was made from. */
export function streamChanged(planned: number, seen: number): DataError {
  return new DataError("DATA_DEDUPE_STREAM_CHANGED", `the records changed between passes: planned over ${planned}, the second pass saw ${seen}`, {
    fix: "pass the same records (the same dataset version) to plan and apply",
    details: { planned, seen },
  });
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Pass 2: yields the kept records in order and fills `plan.report.reported` when the stream ends. */
export async function* applyDedupe(
  records: AsyncIterable<DatasetRecord> | Iterable<DatasetRecord>,
  plan: DedupePlan,
): AsyncGenerator<DatasetRecord> {
  const clusterCount = plan.detection.clusterOffsets.length - 1;
  const chosen = Array.from({ length: Math.min(clusterCount, plan.options.maxClustersReported) }, (_, c) => c);
  const sampler = new ClusterSampler(plan.detection, chosen, (c) => plan.representative[c], plan.options);
  yield* keepPlanned(records, plan.detection.count, plan.keep, sampler);
  plan.report.reported = sampler.reports();
}

/**
 * The second pass shared by dedupe and the leakage check: the same stream again, record i kept when keep[i] is 1,
 * every record shown to the sampler; a stream of another length than the plan's is an error, not a guess.
 */
export async function* keepPlanned(
  records: AsyncIterable<DatasetRecord> | Iterable<DatasetRecord>,
  count: number,
  keep: Uint8Array,
  sampler: ClusterSampler,
): AsyncGenerator<DatasetRecord> {
  let index = 0;
  for await (const record of records) {
    if (index >= count) throw streamChanged(count, index + 1);
    sampler.observe(record, index);
    if (keep[index] === 1) yield record;
    index++;
  }
  if (index !== count) throw streamChanged(count, index);
}
