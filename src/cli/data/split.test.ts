import { describe, expect, it } from "vitest";
import { runCli, runCliJson } from "../../test-support/cli.js";
import { BANKING77_CSV, makeTempDir } from "../../test-support/paths.js";

describe("tunekit data split (CLI)", () => {
  it("stratifies banking77 on its label kept as metadata beside the assistant turn, and counts all 77 strata", async () => {
    const dir = makeTempDir();
    expect(runCli(["init"], { cwd: dir }).status).toBe(0);
    const imported = await runCliJson(dir, "data", "import", BANKING77_CSV, "--name", "banking", "--map", "user=text,assistant=category,metadata.label=category");
    expect([imported.code, imported.json.version.recordCount]).toEqual([0, 10_003]);
    const split = runCli(["data", "split", "banking", "--stratify", "label", "--no-resolve"], { cwd: dir });
    expect(split.stderr).toBe("");
    expect(split.status).toBe(0);
    // The report lists the 50 largest strata; the line must count all of them.
    expect(split.stdout.split("\n")[1]).toBe("  stratified by label: 77 strata");
  }, 120_000);
});
