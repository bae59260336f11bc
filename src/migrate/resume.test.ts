import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWorkspace, type Workspace } from "../registry/index.js";
import { STORIES260K } from "../test-support/paths.js";
import { runMigration, type MigrateReporter } from "./run-migration.js";
import { API_KEY, KEY_ENV, createMigrateWorkspace, startHostedJob, type HostedJobFixture } from "./testing/migrate-fixtures.js";

// A migration whose train step fails (a device this machine does not have), then the same command with the
// flag fixed: the same migration run continues, the finished steps are skipped and training starts.
let hosted: HostedJobFixture;
let dir: string;
const withWs = async <T>(fn: (ws: Workspace) => Promise<T>): Promise<T> => {
  const ws = await openWorkspace({ dir });
  try {
    return await fn(ws);
  } finally {
    await ws.close();
  }
};
beforeAll(async () => {
  process.env[KEY_ENV] = API_KEY;
  hosted = await startHostedJob();
  dir = await createMigrateWorkspace();
}, 60_000);
afterAll(async () => {
  await hosted?.fixture.server.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("runMigration after a failed step", () => {
  it("continues the same migration run from the failed step", async () => {
    const lines: string[] = [];
    const reporter: MigrateReporter = { step: (s, state) => lines.push(`${state} ${s}`), line: () => undefined };
    const options = { jobId: hosted.jobId, to: STORIES260K, baseURL: hosted.baseURL, apiKeyEnv: KEY_ENV, maxSteps: 1, maxTokens: 4, resamples: 100, name: "again", device: "cuda:7" };
    const first = await withWs((ws) => runMigration(ws, options, reporter).then(() => null, (e: { code?: string }) => e.code ?? "?"));
    expect(first).toBe("CONFIG_INVALID"); // the train spec is refused before a training run exists
    expect(lines).toEqual(["run job", "run import", "skip distill"]);
    lines.length = 0;
    const result = await withWs((ws) => runMigration(ws, { ...options, device: "cpu", seqLen: 64 }, reporter));
    expect(lines).toEqual(["skip job", "skip import", "skip distill", "run train", "run compare", "run experiment"]);
    await withWs(async (ws) => {
      const migrations = await ws.registry.listRuns({ kind: "migration" });
      expect(migrations.map((r) => [r.id, r.status, r.config.device, r.config.seqLen])).toEqual([[result.runId, "succeeded", "cpu", 64]]);
      const trains = await ws.registry.listRuns({ kind: "train" });
      expect(trains.map((r) => [r.id, r.status])).toEqual([[result.trainRunId, "succeeded"]]);
      expect((await ws.registry.listDatasetVersions((await ws.registry.getDataset("again")).id)).length).toBe(2);
    });
  }, 300_000);
});
