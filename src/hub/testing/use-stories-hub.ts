import { join } from "node:path";
import { afterAll, beforeAll, vi } from "vitest";
import { makeTempDir } from "../../test-support/paths.js";
import { startHubFixtureServer, type HubFixtureServer } from "./hub-fixture-server.js";
import { STORIES_REPO, storiesRepo } from "./stories-repo.js";

/**
 * A loopback Hub serving stories260k for the calling test file (started before its tests, closed after them).
 * `pointAt()` aims HF_ENDPOINT at it with a fresh HF_HUB_CACHE for one test and returns that cache;
 * `snapshotIn(cache)` is the folder stories260k's main revision lands in there.
 */
export function useStoriesHub(): { pointAt: () => string; snapshotIn: (cache: string) => string } {
  let hub: HubFixtureServer | undefined;
  beforeAll(async () => {
    hub = await startHubFixtureServer({ repos: [storiesRepo()] });
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await hub?.close();
  });
  const started = (): HubFixtureServer => {
    if (!hub) throw new Error("useStoriesHub: the fixture Hub is not started (call it at the top of a test file or describe)");
    return hub;
  };
  return {
    pointAt() {
      const cache = makeTempDir();
      vi.stubEnv("HF_ENDPOINT", started().url);
      vi.stubEnv("HF_HUB_CACHE", cache);
      return cache;
    },
    snapshotIn(cache) {
      return join(cache, `models--${STORIES_REPO.replace("/", "--")}`, "snapshots", started().commitOf(STORIES_REPO, "main"));
    },
  };
}
