import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startHubFixtureServer, type HubFixtureServer } from "../hub/testing/hub-fixture-server.js";
import { STORIES_REPO, storiesRepo } from "../hub/testing/stories-repo.js";
import { makeTempDir } from "../test-support/paths.js";
import { RecordingReporter } from "./reporter.js";
import { runQuickstart } from "./run-quickstart.js";

/** quickstart --model org/name resolves the Hub model first, before a workspace exists or anything runs. */
describe("runQuickstart with a Hub model", () => {
  let hub: HubFixtureServer;
  beforeAll(async () => {
    hub = await startHubFixtureServer({ repos: [storiesRepo()] });
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await hub.close();
  });

  it("a name the Hub does not have fails with HUB_MODEL_NOT_FOUND and creates no workspace", async () => {
    vi.stubEnv("HF_ENDPOINT", hub.url);
    vi.stubEnv("HF_HUB_CACHE", makeTempDir());
    const dir = join(makeTempDir(), "qs");
    await expect(runQuickstart({ dir, model: "tunekit-fixtures/missing", fast: true }, new RecordingReporter())).rejects.toMatchObject({ code: "HUB_MODEL_NOT_FOUND" });
    expect(existsSync(dir)).toBe(false);
  });

  it("a Hub name is downloaded and passes the model check (here the data check then stops it)", async () => {
    const cache = makeTempDir();
    vi.stubEnv("HF_ENDPOINT", hub.url);
    vi.stubEnv("HF_HUB_CACHE", cache);
    const dir = join(makeTempDir(), "qs");
    await expect(runQuickstart({ dir, model: STORIES_REPO, data: "/nonexistent.csv", fast: true }, new RecordingReporter())).rejects.toMatchObject({
      code: "QUICKSTART_INPUT_MISSING",
      message: "the sample data /nonexistent.csv does not exist",
    });
    expect(readdirSync(join(cache, "models--tunekit-fixtures--stories260k", "snapshots"))).toEqual([hub.commitOf(STORIES_REPO, "main")]);
  });
});
