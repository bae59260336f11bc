import { DataError } from "../../errors/index.js";
import type { DatasetRecord } from "../record.js";
import { ClusterSampler, createDetector, keepPlanned, type ClusterReport } from "./dedupe.js";
import type { DetectionResult } from "./detector.js";
import { normaliseText, recordText } from "./normalize.js";
import { LeakageOptionsSchema, type LeakageOptions, type LeakageOptionsInput } from "./options.js";
import { parseOptions } from "./parse-options.js";
import { canonicalSplit, splitKey } from "../split-membership.js";

export interface LeakageReport {
  check: "leakage";
  options: LeakageOptions;
  records: number;
  /** Records per split name (canonical names; unlabelled records count as train; unknown labels as written). */
  splits: Record<string, number>;
  /** Clusters (exact or near) whose members sit in more than one split. */
  leakedClusters: number;
  /** Cross-split pairs of splits, e.g. "train~test": clusters spanning both. */
  pairs: Record<string, number>;
  /** Records dropped per split when resolving (the copy in the higher-priority split stays). */
  dropped: Record<string, number>;
  resolved: boolean;
  reported: (ClusterReport & { splits: string[] })[];
}

export interface LeakagePlan {
  options: LeakageOptions;
  detection: DetectionResult;
  splitNames: string[];
  splitOf: Uint8Array;
  keep: Uint8Array;
  leaked: number[];
  keeper: Int32Array;
  report: LeakageReport;
}

// By the one membership rule (src/data/split-membership.ts): "validation" and "val" are one split, and an
// unlabelled record is a training record, so its near-copy in test is leakage and it is the copy dropped.
const splitName = (record: DatasetRecord, field: string): string => splitKey(record.metadata, field);

/**
 * Pass 1 of the leakage check: near-duplicate clusters (exact included) across splits. A cluster leaks when
 * its members sit in two or more splits; resolving keeps the members in the highest-priority split present
 * (default test > val > train, so evaluation sets stay intact and the train copy goes) and drops the others.
 * Duplicates within one split are not leakage and are left to `dedupe`.
 */
export async function planLeakageCheck(
  records: AsyncIterable<DatasetRecord> | Iterable<DatasetRecord>,
  input: LeakageOptionsInput = {},
): Promise<LeakagePlan> {
  const options = parseOptions(LeakageOptionsSchema, input, "DATA_LEAKAGE_OPTIONS");
  const detector = createDetector(options);
  const names = new Map<string, number>();
  const splitNames: string[] = [];
  let splitOf = new Uint8Array(1024);
  let n = 0;
  for await (const record of records) {
    const name = splitName(record, options.splitField);
    let code = names.get(name);
    if (code === undefined) {
      if (splitNames.length === 255) {
        throw new DataError("DATA_LEAKAGE_TOO_MANY_SPLITS", `metadata.${options.splitField} has more than 255 distinct values`, {
          fix: `use --split-field with a field that names a split (train|val|test), not an id`,
        });
      }
      code = splitNames.length;
      names.set(name, code);
      splitNames.push(name);
    }
    if (n === splitOf.length) {
      const grown = new Uint8Array(n * 2);
      grown.set(splitOf);
      splitOf = grown;
    }
    splitOf[n++] = code;
    detector.add(normaliseText(recordText(record, options)));
  }
  splitOf = splitOf.slice(0, n);
  const d = detector.finish();
  // Priority names are read like labels: "validation" in --priority means the val split.
  const priority = options.priority.map((p) => canonicalSplit(p) ?? p);
  const rank = (code: number): number => {
    const r = priority.indexOf(splitNames[code]);
    return r < 0 ? priority.length : r;
  };
  const keep = new Uint8Array(n).fill(1);
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) counts[splitNames[splitOf[i]]] = (counts[splitNames[splitOf[i]]] ?? 0) + 1;
  const pairs: Record<string, number> = {};
  const dropped: Record<string, number> = {};
  const leaked: number[] = [];
  const clusterCount = d.clusterOffsets.length - 1;
  const keeper = new Int32Array(clusterCount).fill(-1);
  for (let c = 0; c < clusterCount; c++) {
    const members = d.clusterMembers.subarray(d.clusterOffsets[c], d.clusterOffsets[c + 1]);
    const present = [...new Set(Array.from(members, (m) => splitOf[m]))].sort((a, b) => rank(a) - rank(b) || a - b);
    if (present.length < 2) continue;
    leaked.push(c);
    for (let a = 0; a < present.length; a++) {
      for (let b = a + 1; b < present.length; b++) {
        const key = [splitNames[present[a]], splitNames[present[b]]].sort().join("~");
        pairs[key] = (pairs[key] ?? 0) + 1;
      }
    }
    const winner = present[0];
    keeper[c] = members.find((m) => splitOf[m] === winner) ?? members[0];
    if (!options.resolve) continue;
    for (const m of members) {
      if (splitOf[m] === winner) continue;
      keep[m] = 0;
      const name = splitNames[splitOf[m]];
      dropped[name] = (dropped[name] ?? 0) + 1;
    }
  }
  return {
    options,
    detection: d,
    splitNames,
    splitOf,
    keep,
    leaked,
    keeper,
    report: {
      check: "leakage",
      options,
      records: n,
      splits: counts,
      leakedClusters: leaked.length,
      pairs,
      dropped,
      resolved: options.resolve,
      reported: [],
    },
  };
}

/** Pass 2: yields the records that stay (all of them when not resolving) and fills the report's samples. */
export async function* applyLeakageCheck(
  records: AsyncIterable<DatasetRecord> | Iterable<DatasetRecord>,
  plan: LeakagePlan,
): AsyncGenerator<DatasetRecord> {
  const chosen = plan.leaked.slice(0, plan.options.maxClustersReported);
  const sampler = new ClusterSampler(plan.detection, chosen, (c) => plan.keeper[c], plan.options);
  yield* keepPlanned(records, plan.detection.count, plan.keep, sampler);
  plan.report.reported = sampler.reports().map((r) => {
    const members = plan.detection.clusterMembers.subarray(plan.detection.clusterOffsets[r.cluster], plan.detection.clusterOffsets[r.cluster + 1]);
    return { ...r, splits: [...new Set(Array.from(members, (m) => plan.splitNames[plan.splitOf[m]]))] };
  });
}
