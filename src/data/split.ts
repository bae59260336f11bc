import { DataError } from "../errors/index.js";
import { applyLeakageCheck, planLeakageCheck, type LeakagePlan, type LeakageReport } from "./dedupe/leakage.js";
import { parseOptions } from "./dedupe/parse-options.js";
import type { DatasetRecord } from "./record.js";
import { SPLITS, type SplitName } from "./split-membership.js";
import { SplitOptionsSchema, type SplitOptions, type SplitOptionsInput } from "./split-options.js";
import { createRandom, PRNG_NAME, shuffleInPlace } from "../runtime/index.js";

export type SplitCounts = Record<SplitName, number>;

export interface SplitReport {
  transform: "split";
  prng: string;
  seed: string | number;
  mode: "ratios" | "counts";
  targets: SplitCounts;
  counts: SplitCounts;
  /** Per stratum (value of stratifyBy, "(none)" when missing): records per split. Top 50 strata by size. */
  strata?: Record<string, SplitCounts>;
  /** How many strata there are in all (`strata` lists at most the 50 largest), "(none)" included. */
  strataCount?: number;
  /** Records without the stratify field (they form the "(none)" stratum). */
  strataMissing?: number;
  groups?: { count: number; largest: number; missingKey: number; mixedStrata: number };
  leakage?: LeakageReport;
  /** Records per split after the leakage check resolved cross-split duplicates. */
  final?: SplitCounts;
}

export interface SplitPlan {
  options: SplitOptions;
  splitOf: Uint8Array;
  report: SplitReport;
}

const NONE = "(none)";
/** The report lists this many strata (the largest); a 77-intent dataset would otherwise drown the report. */
export const STRATA_LISTED = 50;
const zero = (): SplitCounts => ({ train: 0, val: 0, test: 0 });
/** When deficits tie, fill the small evaluation splits first so they never end up empty by rounding. */
const FILL_ORDER: SplitName[] = ["test", "val", "train"];

function metaKey(record: DatasetRecord, field: string | undefined): string | undefined {
  if (!field) return undefined;
  const value = record.metadata?.[field];
  if (value === undefined || value === null || value === "") return undefined;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Largest-remainder rounding of `total * weights` so the parts sum to `total` exactly. */
function apportion(total: number, weights: SplitCounts): SplitCounts {
  const sum = SPLITS.reduce((s, k) => s + weights[k], 0);
  const exact = SPLITS.map((k) => (sum === 0 ? 0 : (total * weights[k]) / sum));
  const out = zero();
  SPLITS.forEach((k, i) => (out[k] = Math.floor(exact[i])));
  let left = total - SPLITS.reduce((s, k) => s + out[k], 0);
  const order = SPLITS.map((k, i) => ({ k, r: exact[i] - Math.floor(exact[i]) })).sort((a, b) => b.r - a.r || FILL_ORDER.indexOf(a.k) - FILL_ORDER.indexOf(b.k));
  for (const { k } of order) if (left-- > 0) out[k]++;
  return out;
}

/**
 * Pass 1: assigns every record a split. Units are groups (groupBy) or single records; within each stratum
 * units are shuffled with the seeded PRNG and each goes to the split furthest below its target, so strata keep
 * their proportions and groups never straddle splits. Exact for ungrouped data; grouped data lands within one
 * group's size of the targets.
 */
export async function planSplit(records: AsyncIterable<DatasetRecord> | Iterable<DatasetRecord>, input: SplitOptionsInput = {}): Promise<SplitPlan> {
  const options = parseOptions(SplitOptionsSchema, input, "DATA_SPLIT_OPTIONS");
  const ratioSum = options.ratios.train + options.ratios.val + options.ratios.test;
  if (!options.counts && Math.abs(ratioSum - 1) > 1e-6) {
    throw new DataError("DATA_SPLIT_RATIOS", `split ratios sum to ${ratioSum}, not 1 (train ${options.ratios.train}, val ${options.ratios.val}, test ${options.ratios.test})`, {
      fix: "pass ratios that add up to 1, e.g. --ratios 0.8,0.1,0.1",
    });
  }
  const unitOf: number[] = [];
  const unitSize: number[] = [];
  const unitStratum: string[] = [];
  const groupIds = new Map<string, number>();
  let missingKey = 0;
  let missingStratum = 0;
  let mixedStrata = 0;
  const mixed = new Set<number>();
  for await (const record of records) {
    const label = metaKey(record, options.stratifyBy);
    if (options.stratifyBy && label === undefined) missingStratum++;
    const stratum = label ?? NONE;
    const group = metaKey(record, options.groupBy);
    if (options.groupBy && group === undefined) missingKey++;
    let unit = group === undefined ? undefined : groupIds.get(group);
    if (unit === undefined) {
      unit = unitSize.length;
      unitSize.push(0);
      unitStratum.push(stratum);
      if (group !== undefined) groupIds.set(group, unit);
    } else if (unitStratum[unit] !== stratum && !mixed.has(unit)) {
      mixed.add(unit);
      mixedStrata++;
    }
    unitSize[unit]++;
    unitOf.push(unit);
  }
  const n = unitOf.length;
  if (n === 0) throw new DataError("DATA_SPLIT_EMPTY", "there are no records to split", { fix: "import records first (tunekit data import)" });
  for (const [field, missing, flag] of [[options.stratifyBy, missingStratum, "--stratify"], [options.groupBy, missingKey, "--group"]] as const) {
    if (field && missing === n) {
      throw new DataError("DATA_SPLIT_FIELD_MISSING", `no record has metadata.${field}`, {
        fix: `pass a metadata field the records carry to ${flag} (see \`tunekit data show\`), or leave ${flag} out`,
      });
    }
  }
  const targets = options.counts ? { val: options.counts.val, test: options.counts.test, train: n - options.counts.val - options.counts.test } : apportion(n, options.ratios);
  if (targets.train < 0) {
    throw new DataError("DATA_SPLIT_COUNTS_EXCEED", `val ${options.counts!.val} + test ${options.counts!.test} records exceed the ${n} records available`, {
      fix: `ask for at most ${n} records in val and test together, or use ratios`,
      details: { records: n },
    });
  }
  const strata = new Map<string, number[]>();
  const stratumSize = new Map<string, number>();
  for (let u = 0; u < unitSize.length; u++) {
    const list = strata.get(unitStratum[u]) ?? [];
    if (list.length === 0) strata.set(unitStratum[u], list);
    list.push(u);
    stratumSize.set(unitStratum[u], (stratumSize.get(unitStratum[u]) ?? 0) + unitSize[u]);
  }
  const random = createRandom(options.seed);
  const unitSplit = new Uint8Array(unitSize.length);
  const perStratum = new Map<string, SplitCounts>();
  for (const [stratum, units] of strata) {
    const want = apportion(stratumSize.get(stratum)!, targets);
    const got = zero();
    shuffleInPlace(units, random);
    for (const u of units) {
      let best: SplitName = FILL_ORDER[0];
      for (const k of FILL_ORDER) if (want[k] - got[k] > want[best] - got[best]) best = k;
      got[best] += unitSize[u];
      unitSplit[u] = SPLITS.indexOf(best);
    }
    perStratum.set(stratum, got);
  }
  const splitOf = new Uint8Array(n);
  const counts = zero();
  for (let i = 0; i < n; i++) {
    splitOf[i] = unitSplit[unitOf[i]];
    counts[SPLITS[splitOf[i]]]++;
  }
  const report: SplitReport = { transform: "split", prng: PRNG_NAME, seed: options.seed, mode: options.counts ? "counts" : "ratios", targets, counts };
  if (options.stratifyBy) {
    const top = [...perStratum.entries()].sort((a, b) => stratumSize.get(b[0])! - stratumSize.get(a[0])! || (a[0] < b[0] ? -1 : 1)).slice(0, STRATA_LISTED);
    report.strata = Object.fromEntries(top);
    report.strataCount = perStratum.size;
    report.strataMissing = missingStratum;
  }
  if (options.groupBy) report.groups = { count: groupIds.size, largest: Math.max(0, ...unitSize), missingKey, mixedStrata };
  return { options, splitOf, report };
}

/** Pass 2: yields each record with `metadata[field]` set to its split. */
export async function* applySplit(records: AsyncIterable<DatasetRecord> | Iterable<DatasetRecord>, plan: SplitPlan): AsyncGenerator<DatasetRecord> {
  let i = 0;
  for await (const record of records) {
    if (i >= plan.splitOf.length) break;
    yield { ...record, metadata: { ...record.metadata, [plan.options.field]: SPLITS[plan.splitOf[i++]] } } as DatasetRecord;
  }
  if (i !== plan.splitOf.length) {
    throw new DataError("DATA_SPLIT_STREAM_CHANGED", `the records changed between passes: the split was planned over ${plan.splitOf.length} records`, {
      fix: "pass the same records (the same dataset version) to planSplit and applySplit",
    });
  }
}

export interface SplitRun {
  plan: SplitPlan;
  leakage: LeakagePlan;
  report: SplitReport;
  /** The final records (split written, leaked copies resolved); fills `report.final` when exhausted. */
  records(): AsyncGenerator<DatasetRecord>;
}

/**
 * Split + automatic leakage check, over a source that can be read more than once (a dataset version): plan,
 * check leakage over the split records, then stream the final records.
 */
export async function splitDataset(open: () => AsyncIterable<DatasetRecord> | Iterable<DatasetRecord>, input: SplitOptionsInput = {}): Promise<SplitRun> {
  const plan = await planSplit(open(), input);
  const leakage = await planLeakageCheck(applySplit(open(), plan), { ...plan.options.leakage, splitField: plan.options.field });
  const report = plan.report;
  report.leakage = leakage.report;
  return {
    plan,
    leakage,
    report,
    async *records() {
      const final = zero();
      for await (const record of applyLeakageCheck(applySplit(open(), plan), leakage)) {
        final[record.metadata![plan.options.field] as SplitName]++;
        yield record;
      }
      report.final = final;
    },
  };
}
