import type { Workspace } from "../../registry/index.js";
import { readVersion, isInSplit } from "../../data/index.js";
import { recordToExample } from "../suite/load-examples.js";

/** Train-split size, label counts (distinct references) and mean length, streamed from a dataset version. */
export interface DatasetProfile {
  trainExamples: number;
  labelCounts: Record<string, number>;
  distinctReferences: number;
  meanChars: number;
}

export async function profileTrainSplit(ws: Pick<Workspace, "registry" | "artifacts">, ref: string, trainSplit = "train"): Promise<DatasetProfile> {
  const counts = new Map<string, number>();
  let n = 0;
  let chars = 0;
  let index = 0;
  for await (const record of readVersion(ws, ref)) {
    const e = recordToExample(record, index++);
    if (!e || !isInSplit(record.metadata, trainSplit)) continue;
    n += 1;
    chars += e.input.length + (e.reference?.length ?? 0);
    if (e.reference !== null) counts.set(e.reference.trim(), (counts.get(e.reference.trim()) ?? 0) + 1);
  }
  // Many distinct free-text answers means this is not classification: no label balance to speak of.
  const isLabels = counts.size > 0 && counts.size <= Math.max(2, n / 5);
  return { trainExamples: n, labelCounts: isLabels ? Object.fromEntries(counts) : {}, distinctReferences: counts.size, meanChars: n ? chars / n : 0 };
}
