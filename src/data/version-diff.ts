import type { DatasetRecord } from "./record.js";
import { recordKey } from "./versions.js";

/**
 * Differences between two record streams. Records are matched by `metadata.id` when they have one (so an edited
 * record shows as changed), otherwise by content hash (an edit then shows as one removed plus one added).
 * Memory: one small entry per record of the first version; duplicates count as multiset members. The first
 * version is read twice (the second pass picks the samples of removed and changed records).
 */
export interface VersionDiff {
  before: number;
  after: number;
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
  samples: { added: DatasetRecord[]; removed: DatasetRecord[]; changed: { before: DatasetRecord; after: DatasetRecord }[] };
}

export async function diffVersions(
  before: () => AsyncIterable<DatasetRecord>,
  after: () => AsyncIterable<DatasetRecord>,
  options: { samples?: number } = {},
): Promise<VersionDiff> {
  const maxSamples = options.samples ?? 5;
  const seen = new Map<string, { hash: string; count: number }>();
  let beforeCount = 0;
  for await (const record of before()) {
    beforeCount += 1;
    const { key, hash } = recordKey(record);
    const entry = seen.get(key);
    if (entry) entry.count += 1;
    else seen.set(key, { hash, count: 1 });
  }
  const diff: VersionDiff = {
    before: beforeCount, after: 0, added: 0, removed: 0, changed: 0, unchanged: 0,
    samples: { added: [], removed: [], changed: [] },
  };
  const changedAfter = new Map<string, DatasetRecord>();
  for await (const record of after()) {
    diff.after += 1;
    const { key, hash } = recordKey(record);
    const entry = seen.get(key);
    if (!entry || entry.count === 0) {
      diff.added += 1;
      if (diff.samples.added.length < maxSamples) diff.samples.added.push(record);
      continue;
    }
    entry.count -= 1;
    if (entry.hash === hash) diff.unchanged += 1;
    else {
      diff.changed += 1;
      if (changedAfter.size < maxSamples) changedAfter.set(key, record);
    }
  }
  for (const entry of seen.values()) diff.removed += entry.count;
  if (diff.removed > 0 || changedAfter.size > 0) {
    // Second pass: records whose key was not (fully) matched are the removed ones, in source order.
    for await (const record of before()) {
      const { key } = recordKey(record);
      const changed = changedAfter.get(key);
      if (changed) {
        diff.samples.changed.push({ before: record, after: changed });
        changedAfter.delete(key);
      }
      const entry = seen.get(key)!;
      if (entry.count > 0 && diff.samples.removed.length < maxSamples) {
        entry.count -= 1;
        diff.samples.removed.push(record);
      }
      if (changedAfter.size === 0 && diff.samples.removed.length >= Math.min(maxSamples, diff.removed)) break;
    }
  }
  return diff;
}
