/**
 * Split membership: the one rule for which split a record is in and what each split is for. Every stage asks
 * here (compile, the train spec check and run data, export and hosted plans, eval example loading, the
 * leakage check) so "valid" cannot mean val in one place and train in another.
 *
 * - The label lives in `metadata.split` (written by `tunekit data split`). Aliases that other tools write are
 *   folded onto the three names, case-insensitively: `validation`, `valid`, `dev` → `val`; `training` → `train`;
 *   `testing` → `test`.
 * - A record without a label (field missing, null or "") is a training record: an unsplit dataset trains, and
 *   it is never mistaken for held-out data.
 * - Any other label (e.g. "holdout") is in none of the three: not trained on, not validated on, not evaluated as
 *   test unless asked for by that exact label.
 * - train is trained on; val gives the validation loss (and early stopping); test is held out for eval and the
 *   leakage check keeps its copy first.
 */
export const SPLITS = ["train", "val", "test"] as const;
export type SplitName = (typeof SPLITS)[number];

/** Every accepted label (lower case) and the split it means. */
export const SPLIT_ALIASES: Readonly<Record<string, SplitName>> = {
  train: "train", training: "train",
  val: "val", valid: "val", validation: "val", dev: "val",
  test: "test", testing: "test",
};

/** Where a record belongs: one of the three splits, or a label tunekit does not know (kept as written). */
export type SplitMembership = { split: SplitName; label: string | null } | { split: null; label: string };

/** The split a label names; undefined for a label that is none of train/val/test or their aliases. */
export function canonicalSplit(label: string): SplitName | undefined {
  return SPLIT_ALIASES[label.trim().toLowerCase()];
}

/** The membership of a record from its metadata (`field` defaults to `split`). */
export function splitMembership(metadata: Readonly<Record<string, unknown>> | null | undefined, field = "split"): SplitMembership {
  const value = metadata?.[field];
  if (value === undefined || value === null || value === "") return { split: "train", label: null };
  const label = String(value);
  const split = canonicalSplit(label);
  return split ? { split, label } : { split: null, label };
}

/** The record's split, or null when its label is unknown (it then belongs to no split). */
export function splitOf(metadata: Readonly<Record<string, unknown>> | null | undefined, field = "split"): SplitName | null {
  return splitMembership(metadata, field).split;
}

/**
 * Whether a record is in the split a user asked for by name (`dataset.split: test`, `trainSplit: train`): an
 * alias asks for its split; an unknown name asks for records carrying exactly that label; "all" takes every
 * record.
 */
export function isInSplit(metadata: Readonly<Record<string, unknown>> | null | undefined, wanted: string): boolean {
  if (wanted === "all") return true;
  const membership = splitMembership(metadata);
  const canonical = canonicalSplit(wanted);
  return canonical ? membership.split === canonical : membership.split === null && membership.label === wanted;
}

/** The name a record's split is reported and exported under: the canonical name, or the unknown label as written. */
export function splitKey(metadata: Readonly<Record<string, unknown>> | null | undefined, field = "split"): string {
  const membership = splitMembership(metadata, field);
  return membership.split ?? membership.label;
}

/** train: the optimiser sees it. */
export const isTrainedOn = (split: SplitName | null): boolean => split === "train";
/** val: validation loss and early stopping. */
export const isValidatedOn = (split: SplitName | null): boolean => split === "val";
/** test: eval's held-out set; the leakage check keeps its copy. */
export const isHeldOut = (split: SplitName | null): boolean => split === "test";
