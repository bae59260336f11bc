import { describe, expect, it } from "vitest";
import { runCli } from "../test-support/cli.js";
import { makeTempDir } from "../test-support/paths.js";

describe("tunekit estimate", () => {
  it("warns on candidates whose hosted path is closing, with the date, the source and the fix", () => {
    const dir = makeTempDir();
    expect(runCli(["init"], { cwd: dir }).status).toBe(0);
    const res = runCli(["estimate", "--tokens", "100000", "--candidate", "openai:gpt-4o-mini", "--candidate", "bedrock:amazon.nova-micro-v1:0:128k", "--json"], { cwd: dir });
    expect(res.status, res.stderr).toBe(0);
    const { estimates } = JSON.parse(res.stdout) as { estimates: { model: string; warnings: string[] }[] };
    // OpenAI's wind-down has been in force since 2026-05-07, so the first warning holds whatever day this runs.
    expect(estimates[0]!.warnings[0]).toMatch(/^OpenAI self-serve fine-tuning \(creating new jobs\) clos.* 2027-01-06 .*source: https:\/\/platform\.openai\.com\/docs\/deprecations.*`tunekit migrate`/);
    expect(estimates[1]).toMatchObject({ model: "amazon.nova-micro-v1:0:128k", warnings: [] });
  });
});
