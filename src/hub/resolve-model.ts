import { existsSync, statSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { listFiles, modelInfo, type ListFileEntry } from "@huggingface/hub";
import { AuthError, ConfigError, NotFoundError, ProviderError } from "../errors/index.js";
import { blobPath, hubCacheDir, isSnapshotComplete, linkSnapshotFile, readRef, repoCacheDir, snapshotDir, writeRef } from "./cache-layout.js";
import { ensureBlob, etagOf } from "./download-blob.js";
import { createHubFetch, toHubError, type HubTarget } from "./hub-errors.js";
import { COMMIT_HASH, parseModelRef } from "./model-ref.js";
import { selectModelFiles, type ModelPurpose } from "./select-files.js";

export const DEFAULT_HUB_URL = "https://huggingface.co";

export interface DownloadProgress {
  /** The file being downloaded, its bytes on disk and its size. */
  path: string;
  fileDone: number;
  fileTotal: number;
  /** Over every file this call downloads (files already cached count as done). */
  done: number;
  total: number;
}

export interface ResolveModelOptions {
  /** Relative folders are resolved against it (a workspace root, the folder of an eval.yaml). Default: cwd. */
  baseDir?: string;
  /** HF_ENDPOINT, HF_TOKEN / HUGGING_FACE_HUB_TOKEN, HF_HUB_OFFLINE, HF_HUB_CACHE / HF_HOME. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  cacheDir?: string;
  fetch?: typeof fetch;
  onProgress?(progress: DownloadProgress): void;
  /**
   * Ask the Hub even when the revision is cached, to follow a branch that moved. Off by default: a cached
   * `org/name@main` is used as is (no request), so runs stay reproducible and work offline; `tunekit model pull` sets it.
   */
  refresh?: boolean;
  /** Attempts per file after a dropped connection, each continuing the partial file. Default 2. */
  retries?: number;
  /** `tokenizer` / `plan`: only config and tokenizer files, no weights (`plan` still requires the repo to have them). Default `model`. */
  purpose?: ModelPurpose;
  /** Free bytes on the cache's disk; the default asks the file system (statfs). Replaced in tests. */
  freeBytes?(dir: string): Promise<number>;
}

export interface ResolvedModel {
  /** A folder with config.json, tokenizer.json and safetensors: the folder itself, or the cache snapshot. */
  dir: string;
  source: "local" | "hub";
  repo: string | null;
  revision: string | null;
  /** The exact commit the snapshot is of: what a run records for lineage. */
  commit: string | null;
}

/** HF_HUB_OFFLINE the way huggingface_hub reads it. */
export function isHubOffline(env: NodeJS.ProcessEnv = process.env): boolean {
  return ["1", "on", "yes", "true"].includes((env.HF_HUB_OFFLINE ?? "").trim().toLowerCase());
}

export function hubUrlOf(env: NodeJS.ProcessEnv = process.env): string {
  const url = (env.HF_ENDPOINT?.trim() || DEFAULT_HUB_URL).replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) {
    throw new ConfigError("HUB_ENDPOINT_INVALID", `HF_ENDPOINT ${JSON.stringify(env.HF_ENDPOINT)} is not an http(s) URL`, {
      fix: "set HF_ENDPOINT to the Hub (or a mirror) like https://huggingface.co, or unset it",
    });
  }
  return url;
}

/** The token from the environment; checked for the Hub's shape so a wrong value fails here, not as a vague 401. */
export function hubTokenOf(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = env.HF_TOKEN ? "HF_TOKEN" : env.HUGGING_FACE_HUB_TOKEN ? "HUGGING_FACE_HUB_TOKEN" : null;
  if (!name) return undefined;
  const token = (env[name] ?? "").trim();
  if (!token.startsWith("hf_")) {
    // The value itself is never echoed: only its length.
    throw new AuthError("HUB_TOKEN_INVALID", `${name} is set but is not a Hugging Face token (${token.length} characters, not starting with hf_)`, {
      fix: `set ${name} to a token from https://huggingface.co/settings/tokens (hf_…), or unset it for public models`,
    });
  }
  return token;
}

/**
 * A model folder from a `model:` value: an existing folder is used as is; a Hub name (`org/name[@rev]`) is
 * resolved to a snapshot in the standard Hugging Face cache, downloading the files a model needs first.
 */
export async function resolveModel(ref: string, options: ResolveModelOptions = {}): Promise<ResolvedModel> {
  const parsed = parseModelRef(ref, { baseDir: options.baseDir });
  if (parsed.kind === "local") return { dir: parsed.dir, source: "local", repo: null, revision: null, commit: null };
  const env = options.env ?? process.env;
  const { repo, revision } = parsed;
  const cacheDir = options.cacheDir ?? hubCacheDir(env);
  const repoDir = repoCacheDir(cacheDir, repo);
  const offline = isHubOffline(env);

  const cached = parsed.pinned ? revision : readRef(repoDir, revision);
  const purpose = options.purpose ?? "model";
  if (cached && (offline || !options.refresh) && isSnapshotComplete(snapshotDir(repoDir, cached), purpose)) {
    return { dir: snapshotDir(repoDir, cached), source: "hub", repo, revision, commit: cached };
  }
  if (offline) {
    const state = cached ? `only partly in the cache (snapshot ${cached} lacks config.json, tokenizer.json or a weight file)` : `not in the cache (${repoDir})`;
    throw new NotFoundError("HUB_OFFLINE_NOT_CACHED", `HF_HUB_OFFLINE is set and ${repo}@${revision} is ${state}`, {
      fix: `download it once with the network (\`tunekit model pull ${repo}@${revision}\`), point HF_HUB_CACHE at a cache that has it, or unset HF_HUB_OFFLINE`,
      details: { repo, revision, cacheDir },
    });
  }

  const hubUrl = hubUrlOf(env);
  const accessToken = hubTokenOf(env);
  const target: HubTarget = { repo, revision, hubUrl, hasToken: accessToken !== undefined, localPath: resolve(options.baseDir ?? process.cwd(), ref) };
  const hub = createHubFetch(options.fetch ?? fetch);
  const call = { hubUrl, accessToken, fetch: hub.fetch };
  try {
    const info = await modelInfo({ ...call, name: repo, revision, additionalFields: ["sha"] });
    const commit = info.sha;
    if (typeof commit !== "string" || !COMMIT_HASH.test(commit)) {
      throw new ProviderError("HUB_BAD_LISTING", `the Hub gave ${repo}@${revision} no commit sha (${JSON.stringify(commit ?? null)})`, {
        fix: "retry; if HF_ENDPOINT points at a mirror, check that it serves /api/models/{repo}/revision/{rev} with `sha`",
      });
    }
    const entries: ListFileEntry[] = [];
    for await (const entry of listFiles({ ...call, repo, revision: commit })) entries.push(entry);
    const files = selectModelFiles(entries, { repo, revision }, purpose);
    await downloadFiles(files, { repo, commit, repoDir, hubUrl, accessToken, fetch: hub.fetch }, options);
    if (revision !== commit) await writeRef(repoDir, revision, commit);
    return { dir: snapshotDir(repoDir, commit), source: "hub", repo, revision, commit };
  } catch (e) {
    throw toHubError(e, target, hub.errorCodeOf);
  }
}

interface Where {
  repo: string;
  commit: string;
  repoDir: string;
  hubUrl: string;
  accessToken?: string;
  fetch: typeof fetch;
}

/** Free bytes on the disk holding `dir` (or its nearest existing parent: the cache may not exist yet). */
async function diskFreeBytes(dir: string): Promise<number> {
  let at = dir;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  const fs = await statfs(at);
  return fs.bavail * fs.bsize;
}

/** Refuses a download that cannot fit, before the first byte, rather than failing (or filling the disk) halfway. */
async function checkDiskSpace(files: ListFileEntry[], where: Where, options: ResolveModelOptions): Promise<void> {
  let needed = 0;
  for (const f of files) {
    const blob = blobPath(where.repoDir, etagOf(f));
    if (existsSync(blob)) continue;
    needed += f.size - (existsSync(`${blob}.incomplete`) ? Math.min(f.size, statSync(`${blob}.incomplete`).size) : 0);
  }
  if (needed === 0) return;
  const free = await (options.freeBytes ?? diskFreeBytes)(where.repoDir);
  if (free < needed) {
    const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
    throw new ConfigError("HUB_DISK_FULL", `downloading ${where.repo} needs ${gib(needed)} in ${dirname(where.repoDir)}, which has ${gib(free)} free`, {
      fix: "free some space (`huggingface-cli delete-cache` removes old models), or set HF_HUB_CACHE to a folder on a disk with room",
      details: { repo: where.repo, needed, free },
    });
  }
}

/** Files fetched at once: a sharded model's shards each get a connection (huggingface_hub uses 8 workers). */
const PARALLEL_FILES = 4;

async function downloadFiles(files: ListFileEntry[], where: Where, options: ResolveModelOptions): Promise<void> {
  await checkDiskSpace(files, where, options);
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const onDisk = new Map<string, number>();
  let done = 0;
  const report = (entry: ListFileEntry, fileDone: number) => {
    done += fileDone - (onDisk.get(entry.path) ?? 0);
    onDisk.set(entry.path, fileDone);
    options.onProgress?.({ path: entry.path, fileDone, fileTotal: entry.size, done, total });
  };
  const fetchOne = async (entry: ListFileEntry) => {
    const retries = options.retries ?? 2;
    for (let attempt = 0; ; attempt++) {
      try {
        await ensureBlob({ ...where, entry, onBytes: (fileDone) => report(entry, fileDone) });
        break;
      } catch (e) {
        // A dropped connection leaves the partial file; the next attempt continues it with a Range request.
        const interrupted = e instanceof ProviderError && e.code === "HUB_DOWNLOAD_INTERRUPTED";
        if (!interrupted || attempt >= retries) throw e;
      }
    }
    await linkSnapshotFile(where.repoDir, where.commit, entry.path, etagOf(entry));
    // A cached blob reports nothing while "downloading"; this tick counts it as done.
    report(entry, entry.size);
  };
  // A small pool; after the first failure no new file starts, and every started one settles before we throw,
  // so nothing keeps writing into the cache after resolveModel has returned.
  const queue = [...files];
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    for (let entry = queue.shift(); entry && !failure; entry = queue.shift()) {
      try {
        await fetchOne(entry);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_FILES, files.length) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
}

/**
 * resolveModel for Hub names only; null for anything else (an existing folder, a missing path, a bad name), which
 * the caller keeps checking as before. Lets a call site that already validates folders add Hub names in one line.
 */
export async function resolveHubModel(ref: string, options: ResolveModelOptions = {}): Promise<ResolvedModel | null> {
  try {
    if (parseModelRef(ref, { baseDir: options.baseDir }).kind !== "hub") return null;
  } catch {
    return null;
  }
  return resolveModel(ref, options);
}
