import { describe, expect, it } from "vitest";
import { STORIES_REPO } from "../hub/testing/stories-repo.js";
import { useStoriesHub } from "../hub/testing/use-stories-hub.js";
import { STORIES260K, makeTempDir } from "../test-support/paths.js";
import { assertBaseModel } from "./replacement.js";

const hub = useStoriesHub();

describe("migrate --to", () => {
  it("takes a Hub name: the replacement's base is the snapshot in the Hugging Face cache", async () => {
    const cache = hub.pointAt();
    expect(await assertBaseModel(STORIES_REPO)).toBe(hub.snapshotIn(cache));
  });

  it("takes a folder as it is, and refuses one without config.json", async () => {
    expect(await assertBaseModel(STORIES260K)).toBe(STORIES260K);
    await expect(assertBaseModel(makeTempDir())).rejects.toMatchObject({ code: "MIGRATE_BASE_MODEL_MISSING" });
  });
});
