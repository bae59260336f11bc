import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { UsageError } from "../errors/index.js";

/** Where a `model:` value points: a folder on disk, or a Hugging Face Hub repo at a revision. */
export type ModelRef =
  | { kind: "local"; dir: string }
  | { kind: "hub"; repo: string; revision: string; pinned: boolean };

/** The revision used when a Hub name has no `@revision`: the repo's default branch, as the Hub and Python do. */
export const DEFAULT_REVISION = "main";

// The Hub's repo id rule: `namespace/name`, letters, digits, `-`, `_`, `.`; no `--` or `..`; at most 96 chars.
const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;
// A branch, tag or commit; `refs/pr/1` style names contain slashes.
const REVISION = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;
export const COMMIT_HASH = /^[0-9a-f]{40}$/;

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** True for what only a path can be: `./x`, `../x`, `/x`, `~/x`, `C:\x`, or anything with a backslash. */
function looksLikePath(ref: string): boolean {
  return /^(?:\.{1,2}[\\/]|[\\/]|~|[A-Za-z]:[\\/])/.test(ref) || ref.includes("\\");
}

export function isValidRepoId(repo: string): boolean {
  return repo.length <= 96 && REPO_ID.test(repo) && !repo.includes("--") && !repo.includes("..");
}

/**
 * Reads `org/name`, `org/name@revision` or a folder. Ambiguity (`org/name` could be a relative folder too) is
 * resolved in favour of the disk: an existing folder (relative to `baseDir`) always wins, so a workspace that
 * vendors `Qwen/Qwen2.5-0.5B` beside its train.yaml keeps using its copy. Anything else must be a valid repo id.
 */
export function parseModelRef(ref: string, options: { baseDir?: string } = {}): ModelRef {
  const baseDir = options.baseDir ?? process.cwd();
  const trimmed = ref.trim();
  const local = isAbsolute(trimmed) ? trimmed : resolve(baseDir, trimmed);
  if (trimmed !== "" && isDir(local)) return { kind: "local", dir: local };
  if (trimmed === "" || looksLikePath(trimmed)) {
    throw new UsageError("MODEL_FOLDER_NOT_FOUND", `model folder ${JSON.stringify(ref)} does not exist (looked at ${local})`, {
      fix: "check the path, or name a Hugging Face Hub model as org/name (e.g. Qwen/Qwen2.5-0.5B-Instruct)",
    });
  }
  const at = trimmed.indexOf("@");
  const repo = at === -1 ? trimmed : trimmed.slice(0, at);
  const revision = at === -1 ? DEFAULT_REVISION : trimmed.slice(at + 1);
  if (!isValidRepoId(repo)) {
    throw new UsageError("MODEL_REF_INVALID", `${JSON.stringify(ref)} is neither a model folder (no folder at ${local}) nor a Hugging Face Hub repo id`, {
      fix: "pass an existing folder, or a Hub name as org/name or org/name@revision (letters, digits, - _ .), e.g. Qwen/Qwen2.5-0.5B-Instruct@main",
    });
  }
  if (!REVISION.test(revision) || revision.split("/").includes("..")) {
    throw new UsageError("MODEL_REF_INVALID", `revision ${JSON.stringify(revision)} in ${JSON.stringify(ref)} is not a branch, tag or commit`, {
      fix: "use org/name@main, org/name@v1.0 or org/name@<40-hex commit>",
    });
  }
  return { kind: "hub", repo, revision, pinned: COMMIT_HASH.test(revision) };
}

/** `org/name@rev` as a user would write it back (the default revision left out). */
export function formatModelRef(ref: Extract<ModelRef, { kind: "hub" }>): string {
  return ref.revision === DEFAULT_REVISION ? ref.repo : `${ref.repo}@${ref.revision}`;
}
