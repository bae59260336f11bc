import { createHash } from "node:crypto";
import { closeSync, createReadStream, openSync, readSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";

/**
 * A loopback stand-in for huggingface.co implementing the routes @huggingface/hub calls, with the Hub's
 * documented shapes: GET /api/models/{repo}/revision/{rev} (sha, gated), GET /api/models/{repo}/tree/{rev}
 * (oid, size, lfs.oid sha256), GET|HEAD /{repo}/resolve/{rev}/{path} (X-Repo-Commit, ETag, X-Linked-Etag,
 * X-Linked-Size, a 302 to a CDN on another origin for LFS files), Range requests (206, Content-Range, 416), X-Error-Code
 * (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo) with 401/403/404. Files are served from where
 * they lie (a fixture folder is never copied); a literal Buffer can stand in for one file of a revision.
 */
export interface FixtureRevisionSpec {
  /** Branches and tags pointing at this revision (e.g. ["main"]). */
  refs: string[];
  /** Repo path → file on disk, or literal bytes. */
  files: Record<string, string | Buffer>;
}

export interface FixtureRepoSpec {
  name: string;
  revisions: FixtureRevisionSpec[];
  /** Gated: file downloads need a token from `tokens` (401 without one, 403 with another). */
  gated?: boolean;
}

export interface FixtureRequest {
  /** The Hub's API/resolve origin, or the CDN's (LFS redirects). */
  origin: "hub" | "cdn";
  method: string;
  path: string;
  range: string | null;
  auth: "none" | "granted" | "refused";
}

interface FixtureFile {
  path: string;
  source: string | Buffer;
  size: number;
  gitOid: string;
  sha256: string;
  lfs: boolean;
}

interface FixtureRevision {
  commit: string;
  files: Map<string, FixtureFile>;
}

export interface HubFixtureServer {
  url: string;
  requests: FixtureRequest[];
  /** The commit a ref (or a commit) of a repo resolves to. */
  commitOf(repo: string, ref: string): string;
  /** The next download of `path` sends `bytes` bytes and then drops the connection. */
  cutNext(path: string, bytes: number): void;
  /** The next download of `path` sends its bytes with the first one flipped (same length, wrong hash). */
  corruptNext(path: string): void;
  /** Answer resumes (Range from a byte > 0) with 200 and the whole file, like a server that cannot resume. */
  ignoreRanges(on: boolean): void;
  close(): Promise<void>;
}

const gitSha1 = (bytes: Buffer) => createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");

/** sha256 and git sha1 of a file, read in 4 MiB pieces so a large fixture is never held in memory. */
function hashSource(source: string | Buffer, size: number): { sha256: string; gitSha1: string } {
  const sha256 = createHash("sha256");
  const sha1 = createHash("sha1").update(`blob ${size}\0`);
  if (typeof source !== "string") return { sha256: sha256.update(source).digest("hex"), gitSha1: sha1.update(source).digest("hex") };
  const fd = openSync(source, "r");
  try {
    const buf = Buffer.alloc(4 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) {
      sha256.update(buf.subarray(0, n));
      sha1.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: sha256.digest("hex"), gitSha1: sha1.digest("hex") };
}

function loadFile(path: string, source: string | Buffer): FixtureFile {
  // Hashing reads the file once at start-up; serving streams it from disk.
  const size = typeof source === "string" ? statSync(source).size : source.length;
  const { sha256, gitSha1: contentOid } = hashSource(source, size);
  const lfs = path.endsWith(".safetensors") || size > 10 * 1024 * 1024;
  const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`);
  return { path, source, size, sha256, lfs, gitOid: lfs ? gitSha1(pointer) : contentOid };
}

function pointerSize(f: FixtureFile): number {
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${f.sha256}\nsize ${f.size}\n`.length;
}

export async function startHubFixtureServer(options: { repos: FixtureRepoSpec[]; tokens?: string[] }): Promise<HubFixtureServer> {
  const tokens = new Set(options.tokens ?? []);
  const repos = new Map<string, { spec: FixtureRepoSpec; revisions: FixtureRevision[]; refs: Map<string, string> }>();
  for (const spec of options.repos) {
    const revisions: FixtureRevision[] = [];
    const refs = new Map<string, string>();
    for (const rev of spec.revisions) {
      const files = new Map(Object.entries(rev.files).map(([p, s]) => [p, loadFile(p, s)]));
      const commit = createHash("sha1").update(spec.name).update([...files.values()].map((f) => `${f.path}:${f.gitOid}`).sort().join("\n")).digest("hex");
      revisions.push({ commit, files });
      for (const ref of rev.refs) refs.set(ref, commit);
    }
    repos.set(spec.name, { spec, revisions, refs });
  }
  const requests: FixtureRequest[] = [];
  const cuts = new Map<string, number>();
  const corrupt = new Set<string>();
  let ignoreRanges = false;

  const findRevision = (repo: string, ref: string) => {
    const r = repos.get(repo);
    const commit = r?.refs.get(ref) ?? ref;
    return r?.revisions.find((rev) => rev.commit === commit) ?? null;
  };

  const fail = (res: ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "X-Error-Code": code, "X-Error-Message": message });
    res.end(JSON.stringify({ error: message }));
  };

  const serveBytes = (req: IncomingMessage, res: ServerResponse, file: FixtureFile, headers: Record<string, string>) => {
    const asked = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
    // Ignoring ranges applies to resumes (start > 0); the one-byte size probe still gets its 206.
    const range = ignoreRanges && asked && asked[1] !== "" && Number(asked[1]) > 0 ? null : asked;
    let start = 0;
    let end = file.size - 1;
    if (range) {
      start = range[1] === "" ? Math.max(0, file.size - Number(range[2])) : Number(range[1]);
      end = range[1] !== "" && range[2] !== "" ? Math.min(Number(range[2]), file.size - 1) : file.size - 1;
      if (start >= file.size || start > end) {
        res.writeHead(416, { "Content-Range": `bytes */${file.size}` });
        res.end();
        return;
      }
    }
    const length = end - start + 1;
    res.writeHead(range ? 206 : 200, {
      ...headers,
      "Accept-Ranges": "bytes",
      "Content-Type": "application/octet-stream",
      "Content-Length": String(length),
      ...(range ? { "Content-Range": `bytes ${start}-${end}/${file.size}` } : {}),
    });
    if (req.method === "HEAD") return void res.end();
    // The switches act on the next real download, not on the one-byte probe @huggingface/hub sends first.
    const probe = length === 1 && file.size > 1;
    const cut = probe ? undefined : cuts.get(file.path);
    if (cut !== undefined) cuts.delete(file.path);
    const flip = !probe && corrupt.delete(file.path);
    const stream = typeof file.source === "string" ? createReadStream(file.source, { start, end }) : Readable.from([file.source.subarray(start, end + 1)]);
    let sent = 0;
    stream.on("data", (chunk: Buffer | string) => {
      let bytes = Buffer.from(chunk);
      if (flip && sent === 0) bytes = Buffer.concat([Buffer.from([bytes[0] ^ 0xff]), bytes.subarray(1)]);
      if (cut !== undefined && sent + bytes.length >= cut) {
        stream.destroy();
        // Send the bytes before the cut, then close the connection mid-body (short of Content-Length). A FIN,
        // not a reset, so the client reads every byte sent and the cut is at an exact offset.
        res.write(bytes.subarray(0, cut - sent), () => res.socket?.end());
        sent = cut;
        return;
      }
      sent += bytes.length;
      res.write(bytes);
    });
    stream.on("end", () => res.end());
  };

  const record = (req: IncomingMessage, origin: FixtureRequest["origin"]) => {
    const url = new URL(req.url ?? "/", "http://fixture");
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const auth: FixtureRequest["auth"] = bearer === undefined ? "none" : tokens.has(bearer) ? "granted" : "refused";
    requests.push({ origin, method: req.method ?? "GET", path: url.pathname + url.search, range: req.headers.range ?? null, auth });
    return { url, auth, parts: url.pathname.split("/").filter(Boolean).map(decodeURIComponent) };
  };

  // The CDN, on its own origin like the Hub's (cdn-lfs / cas-bridge): content by sha256, unauthenticated like a
  // signed URL. A client must not send it the Hub token; fetch drops Authorization on a cross-origin redirect.
  const cdn = createServer((req, res) => {
    const { parts } = record(req, "cdn");
    const revs = parts[0] === "cdn" && parts.length === 4 ? (repos.get(`${parts[1]}/${parts[2]}`)?.revisions ?? []) : [];
    const file = revs.flatMap((r) => [...r.files.values()]).find((f) => f.sha256 === parts[3]);
    if (!file) return fail(res, 404, "EntryNotFound", "no such object");
    serveBytes(req, res, file, { ETag: `"${file.sha256}"` });
  });
  await new Promise<void>((resolve) => cdn.listen(0, "127.0.0.1", resolve));
  const cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;

  const server = createServer((req, res) => {
    const { url, auth, parts } = record(req, "hub");
    const api = parts[0] === "api" && parts[1] === "models";
    const repoName = api ? `${parts[2]}/${parts[3]}` : `${parts[0]}/${parts[1]}`;
    const repo = repos.get(repoName);
    if (!repo) {
      // The Hub answers 401 to anonymous callers for repos that do not exist (it will not confirm private ones).
      return fail(res, auth === "granted" ? 404 : 401, "RepoNotFound", `Repository Not Found for url: ${url.href}.`);
    }
    const action = api ? parts[4] : parts[2];
    const ref = api ? parts.slice(5).join("/") : parts[3];
    const revision = findRevision(repoName, ref ?? "");
    if (!revision) return fail(res, 404, "RevisionNotFound", `Invalid rev id: ${ref}`);

    if (api && action === "revision") {
      res.writeHead(200, { "Content-Type": "application/json" });
      return void res.end(JSON.stringify({
        _id: createHash("sha1").update(repoName).digest("hex").slice(0, 24),
        id: repoName,
        sha: revision.commit,
        private: false,
        gated: repo.spec.gated ? "manual" : false,
        pipeline_tag: "text-generation",
        downloads: 0,
        likes: 0,
        lastModified: "2026-01-01T00:00:00.000Z",
        siblings: [...revision.files.keys()].map((rfilename) => ({ rfilename })),
      }));
    }
    if (api && action === "tree") {
      res.writeHead(200, { "Content-Type": "application/json" });
      return void res.end(JSON.stringify([...revision.files.values()].map((f) => ({
        type: "file",
        oid: f.gitOid,
        size: f.size,
        path: f.path,
        ...(f.lfs ? { lfs: { oid: f.sha256, size: f.size, pointerSize: pointerSize(f) } } : {}),
      }))));
    }
    if (!api && action === "resolve") {
      const path = parts.slice(4).join("/");
      if (repo.spec.gated && auth !== "granted") {
        const message = `Access to model ${repoName} is restricted. You must have access to it and be authenticated to access it. Please log in.`;
        return fail(res, auth === "none" ? 401 : 403, "GatedRepo", message);
      }
      const file = revision.files.get(path);
      if (!file) return fail(res, 404, "EntryNotFound", `${path} does not exist on "${ref}"`);
      if (file.lfs) {
        res.writeHead(302, {
          Location: `${cdnUrl}/cdn/${repoName}/${file.sha256}`,
          "X-Repo-Commit": revision.commit,
          ETag: `"${file.gitOid}"`,
          "X-Linked-Etag": `"${file.sha256}"`,
          "X-Linked-Size": String(file.size),
        });
        return void res.end();
      }
      return serveBytes(req, res, file, { ETag: `"${file.gitOid}"`, "X-Repo-Commit": revision.commit });
    }
    fail(res, 404, "EntryNotFound", `no route for ${url.pathname}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    commitOf: (repo, ref) => {
      const rev = findRevision(repo, ref);
      if (!rev) throw new Error(`fixture has no ${repo}@${ref}`);
      return rev.commit;
    },
    cutNext: (path, bytes) => void cuts.set(path, bytes),
    corruptNext: (path) => void corrupt.add(path),
    ignoreRanges: (on) => void (ignoreRanges = on),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      cdn.closeAllConnections();
      cdn.close();
      server.close(() => resolve());
    }),
  };
}

/** The files of a model folder on disk as a fixture revision (paths only: nothing is copied). */
export function folderFiles(dir: string, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, `${dir}/${n}`]));
}
