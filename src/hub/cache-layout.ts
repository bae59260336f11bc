import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { mkdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, relative } from "node:path";
import { getRepoFolderName } from "@huggingface/hub";

/**
 * The standard Hugging Face cache, shared with Python tools (huggingface_hub, transformers):
 *   <cache>/models--org--name/blobs/<etag>              file contents, named by LFS sha256 or git blob sha1
 *   <cache>/models--org--name/snapshots/<commit>/<path> relative symlinks into blobs
 *   <cache>/models--org--name/refs/<revision>           the commit a branch or tag pointed at when fetched
 */

/** The cache folder, by the same precedence as huggingface_hub and @huggingface/hub's getHFHubCachePath. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  const home = env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "huggingface");
  return join(home, "hub");
}

export function repoCacheDir(cacheDir: string, repo: string): string {
  return join(cacheDir, getRepoFolderName({ type: "model", name: repo }));
}

export function snapshotDir(repoDir: string, commit: string): string {
  return join(repoDir, "snapshots", commit);
}

export function blobPath(repoDir: string, etag: string): string {
  return join(repoDir, "blobs", etag);
}

/** The commit a cached branch or tag points at, or null when it was never fetched. */
export function readRef(repoDir: string, revision: string): string | null {
  const path = join(repoDir, "refs", revision);
  if (!existsSync(path)) return null;
  const commit = readFileSync(path, "utf8").trim();
  return /^[0-9a-f]{40}$/.test(commit) ? commit : null;
}

/** Written last, after every file of the snapshot is in place, so a ref never points at a partial snapshot. */
export async function writeRef(repoDir: string, revision: string, commit: string): Promise<void> {
  const path = join(repoDir, "refs", revision);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, commit);
  await rename(tmp, path);
}

/** snapshots/<commit>/<path> → ../../blobs/<etag>, relative like huggingface_hub so the cache can be moved. */
export async function linkSnapshotFile(repoDir: string, commit: string, path: string, etag: string): Promise<void> {
  const pointer = join(snapshotDir(repoDir, commit), path);
  await mkdir(dirname(pointer), { recursive: true });
  const target = relative(dirname(pointer), blobPath(repoDir, etag));
  // Symlink beside, then rename over: a reader never sees a missing or half-made link.
  const tmp = `${pointer}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  await symlink(target, tmp);
  await rename(tmp, pointer);
}

/** A snapshot file that resolves to a regular file (not a dangling link). */
export function hasSnapshotFile(dir: string, path: string): boolean {
  try {
    return statSync(realpathSync(join(dir, path))).isFile();
  } catch {
    return false;
  }
}

/**
 * Whether a snapshot holds a usable model: config.json, tokenizer.json and every weight file (all shards a
 * model.safetensors.index.json names, or model.safetensors); for a tokenizer, the first two. From disk only.
 */
export function isSnapshotComplete(dir: string, purpose: "model" | "tokenizer" | "plan" = "model"): boolean {
  if (!hasSnapshotFile(dir, "config.json") || !hasSnapshotFile(dir, "tokenizer.json")) return false;
  if (purpose !== "model") return true;
  if (hasSnapshotFile(dir, "model.safetensors.index.json")) {
    try {
      const index = JSON.parse(readFileSync(join(dir, "model.safetensors.index.json"), "utf8")) as { weight_map?: Record<string, string> };
      const shards = new Set(Object.values(index.weight_map ?? {}));
      return shards.size > 0 && [...shards].every((shard) => hasSnapshotFile(dir, shard));
    } catch {
      return false;
    }
  }
  return hasSnapshotFile(dir, "model.safetensors");
}
