import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commitVersion } from "../data/index.js";
import { createTempWorkspace, fromArray } from "../data/testing/temp-workspace.js";
import { openWorkspace } from "../registry/index.js";
import { runCli } from "../test-support/cli.js";

const record = (i: number) => ({
  messages: [{ role: "user" as const, content: `How do I reset card PIN number ${i}?` }, { role: "assistant" as const, content: `Open the app, choose card ${i}, then Reset PIN.` }],
  metadata: { split: "train" },
});

describe("tunekit train --dry-run with provider: openai", () => {
  it("prints the closing-path warnings with date, source and fix; nothing is submitted", async () => {
    const ws = await createTempWorkspace();
    await commitVersion(ws, { dataset: "support", transform: "import", params: {}, records: fromArray(Array.from({ length: 12 }, (_, i) => record(i))) });
    const dir = ws.root;
    await ws.close();
    writeFileSync(join(dir, "train.yaml"), "provider: openai\nmodel: gpt-4o-mini-2024-07-18\ndataset: support\nepochs: 2\n");
    const res = runCli(["train", "--config", "train.yaml", "--dry-run"], { cwd: dir, env: { OPENAI_API_KEY: "" } });
    expect(res.status, res.stderr).toBe(0);
    // The wind-down has been in force since 2026-05-07: the warning holds whatever day this runs.
    expect(res.stderr).toMatch(/warning: OpenAI self-serve fine-tuning \(creating new jobs\) clos.*2027-01-06.*source: https:\/\/platform\.openai\.com\/docs\/deprecations.*`tunekit migrate`/);
    expect(res.stdout).toContain("openai fine-tune of gpt-4o-mini-2024-07-18 on support");
    const after = await openWorkspace({ dir });
    try {
      expect(await after.registry.listRuns({})).toEqual([]);
    } finally {
      await after.close();
    }
  });
});
