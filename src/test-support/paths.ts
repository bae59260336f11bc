import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";

/** The repository root, from any test file. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Fixtures shared beside the repo (never copied into it). */
export const FIXTURES = resolve(REPO_ROOT, "..", "shared", "fixtures");
export const STORIES260K = join(FIXTURES, "models", "stories260k");
export const BANKING77_CSV = join(FIXTURES, "data", "banking77", "train.csv");
export const BITEXT_CSV = join(FIXTURES, "data", "bitext-support", "Bitext_Sample_Customer_Support_Training_Dataset.csv");
export const CLI = join(REPO_ROOT, "bin", "tunekit.js");

export function makeTempDir(prefix = "tunekit-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
