import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../test-support/paths.js";
import { resolveModel } from "./resolve-model.js";
import { etag, listTree, requestsSince as since, sha256 } from "./testing/cache-inspect.js";
import { startHubFixtureServer, type HubFixtureServer } from "./testing/hub-fixture-server.js";
import { MODEL_FILES, STORIES_REPO, storiesFile, storiesRepo } from "./testing/stories-repo.js";

/** What ensureBlob guarantees, through resolveModel against the loopback Hub: verified, resumable, one writer, room checked. */
let hub: HubFixtureServer;
const env = () => ({ HF_ENDPOINT: hub.url });
const requestsSince = (n: number) => since(hub, n);

beforeAll(async () => {
  hub = await startHubFixtureServer({ repos: [storiesRepo()] });
});
afterAll(() => hub.close());

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

describe("disk space", () => {
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

});
