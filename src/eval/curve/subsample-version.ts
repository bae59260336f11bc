import type { DatasetVersion, Workspace } from "../../registry/index.js";
import { isInSplit, commitVersion, readVersion } from "../../data/index.js";
import { shuffleSeeded } from "../../runtime/index.js";

/**
 * A child dataset version keeping `fraction` of the train split (every other split whole). Sizes are nested:
 * one seeded order of the train records, so the 10% subset is inside the 25% one, and curve points differ
 * only by added data, not by which data. Subsamples go to a sibling dataset "<name>-curve" (parent: the
 * full version), so "<name>" (latest) still means the user's full dataset afterwards.
 */
export async function subsampleTrainSplit(ws: Pick<Workspace, "registry" | "artifacts">, version: DatasetVersion, fraction: number, seed: number, trainSplit = "train"): Promise<{ version: DatasetVersion; kept: number; trainTotal: number }> {
  let trainTotal = 0;
  for await (const r of readVersion(ws, version)) if (isInSplit(r.metadata, trainSplit)) trainTotal += 1;
  const order = shuffleSeeded(
    Array.from({ length: trainTotal }, (_, i) => i),
    seed,
  );
  const keep = new Set(order.slice(0, Math.max(1, Math.round(trainTotal * fraction))));
  async function* records() {
    let t = 0;
    for await (const r of readVersion(ws, version)) {
      if (!isInSplit(r.metadata, trainSplit)) yield r;
      else if (keep.has(t++)) yield r;
    }
  }
  const child = await commitVersion(ws, {
    dataset: `${version.datasetName}-curve`,
    parent: version,
    transform: "curve-subsample",
    params: { fraction, seed, split: trainSplit },
    records: records(),
    report: { trainKept: keep.size, trainTotal },
  });
  return { version: child, kept: keep.size, trainTotal };
}
