import { describe, expect, it } from "vitest";
import { STORIES_REPO } from "../../hub/testing/stories-repo.js";
import { useStoriesHub } from "../../hub/testing/use-stories-hub.js";
import { makeTempDir } from "../../test-support/paths.js";
import { resolveCandidateModels } from "./build-candidates.js";
import { CandidateSpecSchema } from "./suite-config.js";

describe("resolveCandidateModels", () => {
  const hub = useStoriesHub();

  it("turns a local candidate's Hub name into its HF cache snapshot; folders and openai candidates stay as they are", async () => {
    const cache = hub.pointAt();
    const base = makeTempDir();
    const candidates = [
      CandidateSpecSchema.parse({ name: "hub", type: "local", modelDir: `${STORIES_REPO}@main` }),
      CandidateSpecSchema.parse({ name: "folder", type: "local", modelDir: "./models/base" }),
      CandidateSpecSchema.parse({ name: "api", type: "openai", model: "org/name" }),
    ];
    const resolved = await resolveCandidateModels(candidates, base);
    expect(resolved).toEqual([
      { ...candidates[0], modelDir: hub.snapshotIn(cache) },
      candidates[1],
      candidates[2],
    ]);
  });
});
