import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startHubFixtureServer, type HubFixtureServer } from "../hub/testing/hub-fixture-server.js";
import { STORIES_REPO, storiesRepo } from "../hub/testing/stories-repo.js";
import { STORIES260K, makeTempDir } from "../test-support/paths.js";
import { assertBaseModel } from "./replacement.js";

let hub: HubFixtureServer;
beforeAll(async () => {
  hub = await startHubFixtureServer({ repos: [storiesRepo()] });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await hub.close();
});

describe("migrate --to", () => {
  it("takes a Hub name: the replacement's base is the snapshot in the Hugging Face cache", async () => {
    const cache = makeTempDir();
    vi.stubEnv("HF_ENDPOINT", hub.url);
    vi.stubEnv("HF_HUB_CACHE", cache);
    const folderName = `models--${STORIES_REPO.replace("/", "--")}`;
    expect(await assertBaseModel(STORIES_REPO)).toBe(join(cache, folderName, "snapshots", hub.commitOf(STORIES_REPO, "main")));
  });

  it("takes a folder as it is, and refuses one without config.json", async () => {
    expect(await assertBaseModel(STORIES260K)).toBe(STORIES260K);
    await expect(assertBaseModel(makeTempDir())).rejects.toMatchObject({ code: "MIGRATE_BASE_MODEL_MISSING" });
  });
});
