import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { scanCacheDir } from "@huggingface/hub";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/paths.js";
import { resolveModel, type DownloadProgress } from "./resolve-model.js";
import { startHubFixtureServer, type HubFixtureServer } from "./testing/hub-fixture-server.js";
import { FIXTURE_TOKEN, GATED_REPO, MODEL_FILES, STORIES_REPO, storiesFile, storiesRepo, storiesRepoWithTag } from "./testing/stories-repo.js";

/** Every path under a folder: symlinks as "-> target", refs as their text, other files as "<size> bytes". */
function listTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const key = relative(root, path);
      if (st.isSymbolicLink()) out[key] = `-> ${readlinkSync(path)}`;
      else if (st.isDirectory()) walk(path);
      else out[key] = key.startsWith("refs/") ? readFileSync(path, "utf8") : `${st.size} bytes`;
    }
  };
  walk(root);
  return out;
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const gitOid = (path: string) => {
  const bytes = readFileSync(path);
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
};
const etag = (name: string) => (name.endsWith(".safetensors") ? sha256(storiesFile(name)) : gitOid(storiesFile(name)));

let hub: HubFixtureServer;
const env = () => ({ HF_ENDPOINT: hub.url });
const requestsSince = (n: number) => hub.requests.slice(n).map((r) => `${r.method} ${r.path.split("?")[0]}${r.range ? ` ${r.range}` : ""}`);

beforeAll(async () => {
  hub = await startHubFixtureServer({
    repos: [storiesRepoWithTag(), storiesRepo(GATED_REPO, { gated: true }), { name: "tunekit-fixtures/bin-only", revisions: [{ refs: ["main"], files: { "config.json": storiesFile("config.json"), "pytorch_model.bin": Buffer.from("weights") } }] }],
    tokens: [FIXTURE_TOKEN],
  });
});
afterAll(() => hub.close());

describe("resolveModel from the Hub", () => {
  it("downloads only the model's files into the standard cache layout and returns the snapshot", async () => {
    const cacheDir = makeTempDir();
    const commit = hub.commitOf(STORIES_REPO, "main");
    const resolved = await resolveModel(STORIES_REPO, { env: env(), cacheDir });
    const repoDir = join(cacheDir, "models--tunekit-fixtures--stories260k");
    expect(resolved).toEqual({ dir: join(repoDir, "snapshots", commit), source: "hub", repo: STORIES_REPO, revision: "main", commit });
    const expected: Record<string, string> = { "refs/main": commit };
    for (const name of MODEL_FILES) {
      expected[`blobs/${etag(name)}`] = `${statSync(storiesFile(name)).size} bytes`;
      expected[`snapshots/${commit}/${name}`] = `-> ../../blobs/${etag(name)}`;
    }
    expect(listTree(repoDir)).toEqual(expected);
    for (const name of MODEL_FILES) expect(readFileSync(join(resolved.dir, name)).equals(readFileSync(storiesFile(name)))).toBe(true);
    expect(readdirSync(join(cacheDir, ".locks", "models--tunekit-fixtures--stories260k"))).toEqual([]);
  });

  it("writes a cache @huggingface/hub's own scanner reads as the standard layout", async () => {
    const cacheDir = makeTempDir();
    const resolved = await resolveModel(STORIES_REPO, { env: env(), cacheDir });
    const scan = await scanCacheDir(cacheDir);
    expect(scan.warnings).toEqual([]);
    expect(scan.repos.map((r) => ({ id: r.id, files: r.filesCount, revisions: r.revisions.map((v) => ({ commit: v.commitOid, refs: v.refs, files: v.files.map((f) => f.path.split("/").pop()).sort() })) }))).toEqual([
      { id: { name: STORIES_REPO, type: "model" }, files: MODEL_FILES.length, revisions: [{ commit: resolved.commit, refs: ["main"], files: [...MODEL_FILES].sort() }] },
    ]);
  });

  it("serves a second call from the cache without any request", async () => {
    const cacheDir = makeTempDir();
    const first = await resolveModel(STORIES_REPO, { env: env(), cacheDir });
    const before = hub.requests.length;
    expect(await resolveModel(STORIES_REPO, { env: env(), cacheDir })).toEqual(first);
    expect(await resolveModel(`${STORIES_REPO}@${first.commit}`, { env: env(), cacheDir })).toEqual({ ...first, revision: first.commit });
    expect(requestsSince(before)).toEqual([]);
  });

  it("refresh asks the Hub again but downloads nothing it already has", async () => {
    const cacheDir = makeTempDir();
    await resolveModel(STORIES_REPO, { env: env(), cacheDir });
    const before = hub.requests.length;
    await resolveModel(STORIES_REPO, { env: env(), cacheDir, refresh: true });
    expect(requestsSince(before)).toEqual([`GET /api/models/${STORIES_REPO}/revision/main`, `GET /api/models/${STORIES_REPO}/tree/${hub.commitOf(STORIES_REPO, "main")}`]);
  });

  it("pins a tag or a commit: the snapshot is of that revision, and files shared with main are stored once", async () => {
    const cacheDir = makeTempDir();
    const tagged = hub.commitOf(STORIES_REPO, "v0.1");
    const main = await resolveModel(STORIES_REPO, { env: env(), cacheDir });
    const old = await resolveModel(`${STORIES_REPO}@v0.1`, { env: env(), cacheDir });
    expect(old).toEqual({ dir: join(cacheDir, "models--tunekit-fixtures--stories260k", "snapshots", tagged), source: "hub", repo: STORIES_REPO, revision: "v0.1", commit: tagged });
    expect(tagged).not.toBe(main.commit);
    expect(JSON.parse(readFileSync(join(old.dir, "generation_config.json"), "utf8"))).toEqual({ bos_token_id: 1, eos_token_id: 2, max_length: 32 });
    expect(readlinkSync(join(old.dir, "model.safetensors"))).toBe(readlinkSync(join(main.dir, "model.safetensors")));
    expect(readFileSync(join(cacheDir, "models--tunekit-fixtures--stories260k", "refs", "v0.1"), "utf8")).toBe(tagged);
    const byCommit = await resolveModel(`${STORIES_REPO}@${tagged}`, { env: env(), cacheDir: makeTempDir() });
    expect(byCommit.commit).toBe(tagged);
  });

  it("reports progress per file with running totals that end at the total", async () => {
    const events: DownloadProgress[] = [];
    await resolveModel(STORIES_REPO, { env: env(), cacheDir: makeTempDir(), onProgress: (p) => events.push(p) });
    const total = MODEL_FILES.reduce((s, n) => s + statSync(storiesFile(n)).size, 0);
    expect(events.at(-1)).toEqual({ path: "tokenizer_config.json", fileDone: 845, fileTotal: 845, done: total, total });
    expect(new Set(events.map((e) => e.path))).toEqual(new Set(MODEL_FILES));
    for (let i = 1; i < events.length; i++) expect(events[i].done).toBeGreaterThanOrEqual(events[i - 1].done);
  });

  it("purpose tokenizer fetches no weights; a later model resolve completes the same snapshot", async () => {
    const cacheDir = makeTempDir();
    const commit = hub.commitOf(STORIES_REPO, "main");
    const tok = await resolveModel(STORIES_REPO, { env: env(), cacheDir, purpose: "tokenizer" });
    expect(readdirSync(tok.dir).sort()).toEqual(["config.json", "generation_config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]);
    const before = hub.requests.length;
    expect(await resolveModel(STORIES_REPO, { env: env(), cacheDir, purpose: "tokenizer" })).toEqual(tok);
    expect(requestsSince(before)).toEqual([]);
    const full = await resolveModel(STORIES_REPO, { env: env(), cacheDir });
    expect(full).toEqual({ ...tok, commit });
    expect(readdirSync(full.dir).sort()).toEqual([...MODEL_FILES].sort());
    // Only the weights were fetched the second time: the tokenizer files were already in the cache.
    expect(requestsSince(before).filter((r) => r.includes("/resolve/"))).toEqual([`GET /${STORIES_REPO}/resolve/${commit}/model.safetensors bytes=0-0`]);
  });

  it("honours HF_HUB_CACHE when no cacheDir is given", async () => {
    const cacheDir = makeTempDir();
    const resolved = await resolveModel(STORIES_REPO, { env: { ...env(), HF_HUB_CACHE: cacheDir } });
    expect(resolved.dir.startsWith(join(cacheDir, "models--tunekit-fixtures--stories260k", "snapshots"))).toBe(true);
  });
});

describe("downloads that go wrong", () => {
  it("deletes a blob whose sha256 does not match the listing and says so (HUB_CHECKSUM_MISMATCH)", async () => {
    const cacheDir = makeTempDir();
    hub.corruptNext("model.safetensors");
    await expect(resolveModel(STORIES_REPO, { env: env(), cacheDir })).rejects.toMatchObject({ code: "HUB_CHECKSUM_MISMATCH", kind: "provider" });
    const tree = listTree(join(cacheDir, "models--tunekit-fixtures--stories260k"));
    expect(Object.keys(tree).filter((k) => k.includes(etag("model.safetensors")) || k.startsWith("refs/"))).toEqual([]);
    const again = await resolveModel(STORIES_REPO, { env: env(), cacheDir });
    expect(sha256(join(again.dir, "model.safetensors"))).toBe(etag("model.safetensors"));
  });

  it("continues a cut download with a Range request from where it stopped (HUB_DOWNLOAD_INTERRUPTED)", async () => {
    const cacheDir = makeTempDir();
    const blob = join(cacheDir, "models--tunekit-fixtures--stories260k", "blobs", etag("model.safetensors"));
    hub.cutNext("model.safetensors", 300_000);
    await expect(resolveModel(STORIES_REPO, { env: env(), cacheDir, retries: 0 })).rejects.toMatchObject({ code: "HUB_DOWNLOAD_INTERRUPTED" });
    // The client keeps what it had read when the connection dropped (bytes still queued in the stream are lost).
    const kept = statSync(`${blob}.incomplete`).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(300_000);
    expect(() => statSync(blob)).toThrow();
    const before = hub.requests.length;
    const resolved = await resolveModel(STORIES_REPO, { env: env(), cacheDir });
    expect(requestsSince(before).filter((r) => r.startsWith("GET /cdn/"))).toEqual([
      // @huggingface/hub's one-byte size probe, then the resume.
      `GET /cdn/${STORIES_REPO}/${etag("model.safetensors")} bytes=0-0`,
      `GET /cdn/${STORIES_REPO}/${etag("model.safetensors")} bytes=${kept}-`,
    ]);
    expect(sha256(join(resolved.dir, "model.safetensors"))).toBe(etag("model.safetensors"));
  });

  it("retries a dropped connection within one call, continuing the partial file", async () => {
    const cacheDir = makeTempDir();
    hub.cutNext("model.safetensors", 500_000);
    const resolved = await resolveModel(STORIES_REPO, { env: env(), cacheDir });
    expect(sha256(join(resolved.dir, "model.safetensors"))).toBe(etag("model.safetensors"));
  });

  it("starts over when the server ignores Range, instead of appending a whole file to the part", async () => {
    const cacheDir = makeTempDir();
    const blobs = join(cacheDir, "models--tunekit-fixtures--stories260k", "blobs");
    mkdirSync(blobs, { recursive: true });
    writeFileSync(join(blobs, `${etag("model.safetensors")}.incomplete`), readFileSync(storiesFile("model.safetensors")).subarray(0, 1000));
    hub.ignoreRanges(true);
    try {
      const resolved = await resolveModel(STORIES_REPO, { env: env(), cacheDir });
      expect(sha256(join(resolved.dir, "model.safetensors"))).toBe(etag("model.safetensors"));
    } finally {
      hub.ignoreRanges(false);
    }
  });
});

describe("two writers", () => {
  it("concurrent resolves of one model download each file once and agree", async () => {
    const cacheDir = makeTempDir();
    const before = hub.requests.length;
    const [a, b] = await Promise.all([resolveModel(STORIES_REPO, { env: env(), cacheDir }), resolveModel(STORIES_REPO, { env: env(), cacheDir })]);
    expect(a).toEqual(b);
    expect(requestsSince(before).filter((r) => r.startsWith("GET /cdn/") && !r.endsWith("bytes=0-0"))).toEqual([`GET /cdn/${STORIES_REPO}/${etag("model.safetensors")} bytes=0-`]);
    expect(sha256(join(a.dir, "model.safetensors"))).toBe(etag("model.safetensors"));
  });

  it("takes over a lock left by a process that died", async () => {
    const cacheDir = makeTempDir();
    const locks = join(cacheDir, ".locks", "models--tunekit-fixtures--stories260k");
    mkdirSync(locks, { recursive: true });
    // A pid that cannot be alive (above the kernel's pid_max).
    writeFileSync(join(locks, `${etag("model.safetensors")}.tunekit.lock`), "99999999");
    const resolved = await resolveModel(STORIES_REPO, { env: env(), cacheDir });
    expect(sha256(join(resolved.dir, "model.safetensors"))).toBe(etag("model.safetensors"));
    expect(readdirSync(locks)).toEqual([]);
  });
});

describe("access and names", () => {
  it("a gated model without a token names the repo, the licence page and HF_TOKEN (HUB_GATED_TOKEN_REQUIRED)", async () => {
    const err = await resolveModel(GATED_REPO, { env: env(), cacheDir: makeTempDir() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "HUB_GATED_TOKEN_REQUIRED", kind: "auth", message: `${GATED_REPO}@main is a gated model: downloading it needs a Hugging Face token, and none is set` });
    expect((err as { fix: string }).fix).toContain(`${hub.url}/${GATED_REPO}`);
    expect((err as { fix: string }).fix).toContain("HF_TOKEN");
  });

  it("a token without access to a gated model is refused with the licence fix (HUB_ACCESS_DENIED)", async () => {
    const other = "hf_SomeoneElsesTokenAbcdefghijklmnopq";
    const err = await resolveModel(GATED_REPO, { env: { ...env(), HF_TOKEN: other }, cacheDir: makeTempDir() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "HUB_ACCESS_DENIED", kind: "auth" });
    expect(JSON.stringify(err)).not.toContain(other);
  });

  it("downloads a gated model with HF_TOKEN (or HUGGING_FACE_HUB_TOKEN)", async () => {
    const a = await resolveModel(GATED_REPO, { env: { ...env(), HF_TOKEN: FIXTURE_TOKEN }, cacheDir: makeTempDir() });
    const b = await resolveModel(GATED_REPO, { env: { ...env(), HUGGING_FACE_HUB_TOKEN: FIXTURE_TOKEN }, cacheDir: makeTempDir() });
    expect(a.commit).toBe(hub.commitOf(GATED_REPO, "main"));
    expect(b.commit).toBe(a.commit);
  });

  it("refuses a token of the wrong shape without echoing it (HUB_TOKEN_INVALID)", async () => {
    const err = await resolveModel(GATED_REPO, { env: { ...env(), HF_TOKEN: "not-a-token-123" }, cacheDir: makeTempDir() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "HUB_TOKEN_INVALID", message: "HF_TOKEN is set but is not a Hugging Face token (15 characters, not starting with hf_)" });
  });

  it("an unknown repo is HUB_MODEL_NOT_FOUND and an unknown revision HUB_REVISION_NOT_FOUND", async () => {
    await expect(resolveModel("tunekit-fixtures/nope", { env: env(), cacheDir: makeTempDir() })).rejects.toMatchObject({
      code: "HUB_MODEL_NOT_FOUND",
      kind: "not_found",
      message: `model tunekit-fixtures/nope was not found on ${hub.url} (or it is private and no HF_TOKEN is set), and there is no folder ${process.cwd()}/tunekit-fixtures/nope`,
    });
    await expect(resolveModel(`${STORIES_REPO}@no-such-branch`, { env: env(), cacheDir: makeTempDir() })).rejects.toMatchObject({
      code: "HUB_REVISION_NOT_FOUND",
      message: `${STORIES_REPO} has no revision "no-such-branch" (a branch, tag or commit)`,
    });
  });

  it("a model that does not fit on the cache's disk is refused before the first byte (HUB_DISK_FULL)", async () => {
    const cacheDir = makeTempDir();
    const before = hub.requests.length;
    const needed = MODEL_FILES.reduce((sum, n) => sum + statSync(storiesFile(n)).size, 0);
    await expect(resolveModel(STORIES_REPO, { env: env(), cacheDir, freeBytes: async () => needed - 1 })).rejects.toMatchObject({
      code: "HUB_DISK_FULL",
      kind: "config",
      details: { repo: STORIES_REPO, needed, free: needed - 1 },
    });
    expect(requestsSince(before).filter((r) => r.includes("/resolve/") || r.includes("/cdn/"))).toEqual([]);
    expect(readdirSync(cacheDir)).toEqual([]);
    // With the files already cached, nothing more is needed and the check passes whatever the disk has.
    await resolveModel(STORIES_REPO, { env: env(), cacheDir });
    await resolveModel(STORIES_REPO, { env: env(), cacheDir, refresh: true, freeBytes: async () => 0 });
  });

  it("a repo without safetensors is refused before downloading anything (HUB_MODEL_FILES_MISSING)", async () => {
    const cacheDir = makeTempDir();
    await expect(resolveModel("tunekit-fixtures/bin-only", { env: env(), cacheDir })).rejects.toMatchObject({ code: "HUB_MODEL_FILES_MISSING", details: { missing: ["tokenizer.json", "*.safetensors weights"] } });
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it("an unreachable endpoint is HUB_UNREACHABLE with the offline fix", async () => {
    const err = await resolveModel(STORIES_REPO, { env: { HF_ENDPOINT: "http://127.0.0.1:9" }, cacheDir: makeTempDir() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "HUB_UNREACHABLE" });
    expect((err as { fix: string }).fix).toContain("HF_HUB_OFFLINE=1");
  });
});

describe("HF_ENDPOINT", () => {
  it("a value that is not an http(s) URL is HUB_ENDPOINT_INVALID", async () => {
    await expect(resolveModel(STORIES_REPO, { env: { HF_ENDPOINT: "huggingface.co" }, cacheDir: makeTempDir() })).rejects.toMatchObject({
      code: "HUB_ENDPOINT_INVALID",
      kind: "config",
      message: 'HF_ENDPOINT "huggingface.co" is not an http(s) URL',
    });
  });
});

describe("HF_HUB_OFFLINE", () => {
  it("resolves a cached revision from refs with no request", async () => {
    const cacheDir = makeTempDir();
    const online = await resolveModel(STORIES_REPO, { env: env(), cacheDir });
    const before = hub.requests.length;
    expect(await resolveModel(STORIES_REPO, { env: { ...env(), HF_HUB_OFFLINE: "1" }, cacheDir, refresh: true })).toEqual(online);
    expect(requestsSince(before)).toEqual([]);
  });

  it("a revision not in the cache is HUB_OFFLINE_NOT_CACHED, naming the pull command", async () => {
    const cacheDir = makeTempDir();
    await resolveModel(STORIES_REPO, { env: env(), cacheDir });
    const before = hub.requests.length;
    const err = await resolveModel(`${STORIES_REPO}@v0.1`, { env: { ...env(), HF_HUB_OFFLINE: "true" }, cacheDir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "HUB_OFFLINE_NOT_CACHED", kind: "not_found" });
    expect((err as { fix: string }).fix).toContain(`tunekit model pull ${STORIES_REPO}@v0.1`);
    expect(requestsSince(before)).toEqual([]);
  });
});
