import { readFileSync, readdirSync, readlinkSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { scanCacheDir } from "@huggingface/hub";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/paths.js";
import { resolveModel, type DownloadProgress } from "./resolve-model.js";
import { etag, listTree, requestsSince as since } from "./testing/cache-inspect.js";
import { startHubFixtureServer, type HubFixtureServer } from "./testing/hub-fixture-server.js";
import { FIXTURE_TOKEN, GATED_REPO, MODEL_FILES, STORIES_REPO, storiesFile, storiesRepo, storiesRepoWithTag } from "./testing/stories-repo.js";

const SHARDED_REPO = "tunekit-fixtures/sharded";
const shardIndex = { metadata: { total_size: 8 }, weight_map: { "a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors" } };

let hub: HubFixtureServer;
const env = () => ({ HF_ENDPOINT: hub.url });
const requestsSince = (n: number) => since(hub, n);

beforeAll(async () => {
  hub = await startHubFixtureServer({
    repos: [storiesRepoWithTag(), storiesRepo(GATED_REPO, { gated: true }), {
        name: SHARDED_REPO,
        revisions: [{
          refs: ["main"],
          files: {
            "config.json": storiesFile("config.json"),
            "tokenizer.json": storiesFile("tokenizer.json"),
            "model.safetensors.index.json": Buffer.from(JSON.stringify(shardIndex)),
            "model-00001-of-00002.safetensors": Buffer.from("shard one"),
            "model-00002-of-00002.safetensors": Buffer.from("shard two"),
          },
        }],
      },
      { name: "tunekit-fixtures/bin-only", revisions: [{ refs: ["main"], files: { "config.json": storiesFile("config.json"), "pytorch_model.bin": Buffer.from("weights") } }] }],
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
    // Files download in parallel, so the last event is whichever file finished last.
    expect(events.at(-1)).toMatchObject({ done: total, total });
    expect(events.filter((e) => e.fileDone === e.fileTotal && e.path === "tokenizer_config.json").at(-1)).toMatchObject({ fileDone: 845, fileTotal: 845 });
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
    // (the size probe, then the download; each redirected to the CDN)
    expect(requestsSince(before).filter((r) => r.includes("/resolve/"))).toEqual([
      `GET /${STORIES_REPO}/resolve/${commit}/model.safetensors bytes=0-0`,
      `GET /${STORIES_REPO}/resolve/${commit}/model.safetensors bytes=0-`,
    ]);
  });

  it("a sharded model: the index and every shard it names; offline, a missing shard makes the snapshot incomplete", async () => {
    const cacheDir = makeTempDir();
    const resolved = await resolveModel(SHARDED_REPO, { env: env(), cacheDir });
    expect(readdirSync(resolved.dir).sort()).toEqual(["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json", "tokenizer.json"]);
    const offline = { ...env(), HF_HUB_OFFLINE: "1" };
    expect(await resolveModel(SHARDED_REPO, { env: offline, cacheDir })).toEqual(resolved);
    rmSync(join(resolved.dir, "model-00002-of-00002.safetensors"));
    await expect(resolveModel(SHARDED_REPO, { env: offline, cacheDir })).rejects.toMatchObject({ code: "HUB_OFFLINE_NOT_CACHED" });
    // Online, the missing shard is linked again from its blob, without downloading anything.
    const before = hub.requests.length;
    expect(await resolveModel(SHARDED_REPO, { env: env(), cacheDir })).toEqual(resolved);
    expect(requestsSince(before).filter((r) => r.includes("/resolve/"))).toEqual([]);
  });

  it("honours HF_HUB_CACHE when no cacheDir is given", async () => {
    const cacheDir = makeTempDir();
    const resolved = await resolveModel(STORIES_REPO, { env: { ...env(), HF_HUB_CACHE: cacheDir } });
    expect(resolved.dir.startsWith(join(cacheDir, "models--tunekit-fixtures--stories260k", "snapshots"))).toBe(true);
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

  it("a snapshot with only the tokenizer is HUB_OFFLINE_NOT_CACHED for a model, and enough for a tokenizer", async () => {
    const cacheDir = makeTempDir();
    const tok = await resolveModel(STORIES_REPO, { env: env(), cacheDir, purpose: "tokenizer" });
    const offline = { ...env(), HF_HUB_OFFLINE: "1" };
    expect(await resolveModel(STORIES_REPO, { env: offline, cacheDir, purpose: "tokenizer" })).toEqual(tok);
    await expect(resolveModel(STORIES_REPO, { env: offline, cacheDir })).rejects.toMatchObject({
      code: "HUB_OFFLINE_NOT_CACHED",
      message: `HF_HUB_OFFLINE is set and ${STORIES_REPO}@main is only partly in the cache (snapshot ${tok.commit} lacks config.json, tokenizer.json or a weight file)`,
    });
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
