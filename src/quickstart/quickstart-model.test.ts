import { existsSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { STORIES_REPO } from "../hub/testing/stories-repo.js";
import { useStoriesHub } from "../hub/testing/use-stories-hub.js";
import { makeTempDir } from "../test-support/paths.js";
import { RecordingReporter } from "./reporter.js";
import { runQuickstart } from "./run-quickstart.js";

/** quickstart --model org/name resolves the Hub model first, before a workspace exists or anything runs. */
describe("runQuickstart with a Hub model", () => {
  const hub = useStoriesHub();

  it("a name the Hub does not have fails with HUB_MODEL_NOT_FOUND and creates no workspace", async () => {
    hub.pointAt();
    const dir = join(makeTempDir(), "qs");
    await expect(runQuickstart({ dir, model: "tunekit-fixtures/missing", fast: true }, new RecordingReporter())).rejects.toMatchObject({ code: "HUB_MODEL_NOT_FOUND" });
    expect(existsSync(dir)).toBe(false);
  });

  it("a Hub name is downloaded and passes the model check (here the data check then stops it)", async () => {
    const cache = hub.pointAt();
    const dir = join(makeTempDir(), "qs");
    await expect(runQuickstart({ dir, model: STORIES_REPO, data: "/nonexistent.csv", fast: true }, new RecordingReporter())).rejects.toMatchObject({
      code: "QUICKSTART_INPUT_MISSING",
      message: "the sample data /nonexistent.csv does not exist",
    });
    const snapshot = hub.snapshotIn(cache);
    expect(readdirSync(dirname(snapshot))).toEqual([basename(snapshot)]);
  });
});
