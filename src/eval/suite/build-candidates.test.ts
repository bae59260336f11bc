import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startHubFixtureServer, type HubFixtureServer } from "../../hub/testing/hub-fixture-server.js";
import { STORIES_REPO, storiesRepo } from "../../hub/testing/stories-repo.js";
import { makeTempDir } from "../../test-support/paths.js";
import { resolveCandidateModels } from "./build-candidates.js";
import { CandidateSpecSchema } from "./suite-config.js";

describe("resolveCandidateModels", () => {
  let hub: HubFixtureServer;
  beforeAll(async () => {
    hub = await startHubFixtureServer({ repos: [storiesRepo()] });
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await hub.close();
  });

  it("turns a local candidate's Hub name into its HF cache snapshot; folders and openai candidates stay as they are", async () => {
    const cache = makeTempDir();
    vi.stubEnv("HF_ENDPOINT", hub.url);
    vi.stubEnv("HF_HUB_CACHE", cache);
    const base = makeTempDir();
    const candidates = [
      CandidateSpecSchema.parse({ name: "hub", type: "local", modelDir: `${STORIES_REPO}@main` }),
      CandidateSpecSchema.parse({ name: "folder", type: "local", modelDir: "./models/base" }),
      CandidateSpecSchema.parse({ name: "api", type: "openai", model: "org/name" }),
    ];
    const resolved = await resolveCandidateModels(candidates, base);
    expect(resolved).toEqual([
      { ...candidates[0], modelDir: join(cache, "models--tunekit-fixtures--stories260k", "snapshots", hub.commitOf(STORIES_REPO, "main")) },
      candidates[1],
      candidates[2],
    ]);
  });
});
