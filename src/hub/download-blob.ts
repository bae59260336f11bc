import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { downloadFile, fileDownloadInfo, type ListFileEntry } from "@huggingface/hub";
import { ProviderError } from "../errors/index.js";
import { blobPath } from "./cache-layout.js";

export interface BlobRequest {
  repo: string;
  commit: string;
  entry: ListFileEntry;
  repoDir: string;
  hubUrl: string;
  accessToken?: string;
  fetch: typeof fetch;
  /** Bytes of this file on disk so far (resumed bytes included), and its size. */
  onBytes?(done: number, total: number): void;
}

/** The blob name huggingface_hub uses: the LFS sha256 for LFS files, the git blob sha1 otherwise. */
export function etagOf(entry: ListFileEntry): string {
  const etag = entry.lfs?.oid ?? entry.oid;
  if (!etag || !/^[0-9a-f]{40,64}$/.test(etag)) {
    throw new ProviderError("HUB_BAD_LISTING", `the Hub's file listing gives ${entry.path} no usable oid (${JSON.stringify(etag ?? null)})`, {
      fix: "retry; if HF_ENDPOINT points at a mirror, check that it serves the Hub's /api/models/{repo}/tree shape",
    });
  }
  return etag;
}

/** A file's content hash the way the listing states it: sha256 of the bytes (LFS), or git's sha1 of "blob <size>\0" + bytes. */
function startHash(entry: ListFileEntry): Hash {
  if (entry.lfs) return createHash("sha256");
  return createHash("sha1").update(`blob ${entry.size}\0`);
}

/**
 * Makes blobs/<etag> hold the verified file. The bytes go to blobs/<etag>.incomplete (huggingface_hub's name, so
 * either tool resumes the other's partial file); a later call continues it with a Range request; only a file
 * whose size and hash match the listing is renamed into place, so a corrupt blob never sits in the cache.
 * Returns false when the blob was already there.
 */
export async function ensureBlob(req: BlobRequest): Promise<boolean> {
  const { entry } = req;
  const etag = etagOf(entry);
  const target = blobPath(req.repoDir, etag);
  if (existsSync(target) && statSync(target).size === entry.size) return false;
  await mkdir(dirname(target), { recursive: true });
  return withBlobLock(target, async () => {
    if (existsSync(target) && statSync(target).size === entry.size) return false;
    await rm(target, { force: true });
    const partial = `${target}.incomplete`;
    const state = { offset: existsSync(partial) ? statSync(partial).size : 0, hash: startHash(entry) };
    if (state.offset > entry.size) {
      await rm(partial, { force: true });
      state.offset = 0;
    }
    // Re-read what an earlier attempt left, so the hash covers the whole file without keeping it in memory.
    if (state.offset > 0) for await (const chunk of createReadStream(partial)) state.hash.update(chunk as Buffer);
    req.onBytes?.(state.offset, entry.size);
    if (state.offset < entry.size) await fetchRest(req, partial, state);
    const offset = state.offset;
    const digest = state.hash.digest("hex");
    const expected = entry.lfs?.oid ?? entry.oid;
    if (offset !== entry.size || digest !== expected) {
      await rm(partial, { force: true });
      throw new ProviderError(
        "HUB_CHECKSUM_MISMATCH",
        `${req.repo}@${req.commit.slice(0, 12)} ${entry.path}: downloaded ${offset} bytes with ${entry.lfs ? "sha256" : "git sha1"} ${digest}, the Hub lists ${entry.size} bytes with ${expected}; the bad copy was deleted`,
        { fix: "run the command again to download it afresh; if it fails again, the server at HF_ENDPOINT (or a proxy) serves different bytes than its listing", details: { repo: req.repo, commit: req.commit, path: entry.path } },
      );
    }
    await rename(partial, target);
    return true;
  });
}

/** Appends bytes [state.offset, size) to `partial`, feeding state.hash and advancing state.offset. */
async function fetchRest(req: BlobRequest, partial: string, state: { offset: number; hash: Hash }): Promise<void> {
  const { entry } = req;
  const offset = state.offset;
  const params = { repo: req.repo, path: entry.path, revision: req.commit, hubUrl: req.hubUrl, accessToken: req.accessToken, fetch: req.fetch };
  const info = await fileDownloadInfo(params);
  if (!info) throw new ProviderError("HUB_FILE_MISSING", `${req.repo}@${req.commit.slice(0, 12)} lists ${entry.path} but the Hub cannot serve it (404)`, { fix: "retry later; the repo may be changing" });
  let body: ReadableStream<Uint8Array>;
  if (info.xet) {
    // Xet-backed files are rebuilt from chunks by the package; slicing it keeps the resume offset.
    const blob = await downloadFile({ ...params, downloadInfo: info });
    if (!blob) throw new ProviderError("HUB_FILE_MISSING", `${req.repo} ${entry.path} vanished while downloading`, { fix: "retry later" });
    body = blob.slice(offset).stream();
  } else {
    const headers: Record<string, string> = { Range: `bytes=${offset}-` };
    if (req.accessToken && new URL(info.url).origin === new URL(req.hubUrl).origin) headers.Authorization = `Bearer ${req.accessToken}`;
    const res = await req.fetch(info.url, { headers });
    if (res.status === 200 && offset > 0) {
      // The server ignored Range: start over rather than append the whole file to the part we have.
      await res.body?.cancel();
      await rm(partial, { force: true });
      state.offset = 0;
      state.hash = startHash(entry);
      return fetchRest(req, partial, state);
    }
    if (!res.ok || !res.body) {
      throw new ProviderError("HUB_DOWNLOAD_FAILED", `${req.repo} ${entry.path}: HTTP ${res.status} from ${new URL(info.url).origin} while downloading`, { fix: "run the command again; the download resumes where it stopped" });
    }
    body = res.body;
  }
  // Hashing and counting happen as bytes pass to the file stream, which writes while the next bytes arrive.
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      state.hash.update(chunk);
      state.offset += chunk.length;
      req.onBytes?.(state.offset, entry.size);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>), tap, createWriteStream(partial, { flags: offset > 0 ? "a" : "w" }));
    const file = await open(partial, "r+");
    try {
      await file.sync();
    } finally {
      await file.close();
    }
  } catch (e) {
    // What reached the disk is what the next attempt continues from (it re-hashes the partial file).
    const done = existsSync(partial) ? statSync(partial).size : 0;
    throw new ProviderError("HUB_DOWNLOAD_INTERRUPTED", `${req.repo} ${entry.path}: the download stopped after ${done} of ${entry.size} bytes (${(e as Error).message})`, {
      fix: `run the command again; it continues from byte ${done}`,
      details: { repo: req.repo, path: entry.path, done, size: entry.size },
      cause: e,
    });
  }
}

/**
 * One writer per blob across processes (two `tunekit` commands pulling the same model): an exclusive lock file
 * holding the owner's pid under <cache>/.locks, like huggingface_hub's; a lock whose owner died is taken over.
 */
async function withBlobLock<T>(target: string, fn: () => Promise<T>): Promise<T> {
  const repoDir = dirname(dirname(target));
  const lock = join(dirname(repoDir), ".locks", basename(repoDir), `${basename(target)}.tunekit.lock`);
  await mkdir(dirname(lock), { recursive: true });
  for (;;) {
    try {
      const handle = await open(lock, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (!isOwnerAlive(lock)) await rm(lock, { force: true });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

function isOwnerAlive(lock: string): boolean {
  let pid: number;
  try {
    const text = readFileSync(lock, "utf8");
    // Created but not yet written by its owner: alive unless it has been empty for a while.
    if (text === "") return Date.now() - statSync(lock).mtimeMs < 10_000;
    pid = Number(text);
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
