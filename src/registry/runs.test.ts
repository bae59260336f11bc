import { spawnSync } from "node:child_process";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import { describe, expect, it } from "vitest";
import { currentOwner, initWorkspace, openWorkspace } from "./index.js";
import { migrationProvider } from "./migrations.js";
import { makeTempDir } from "../test-support/paths.js";

async function freshWorkspace() {
  const dir = makeTempDir();
  await initWorkspace(dir, { name: "t" });
  return openWorkspace({ dir, env: {} });
}

function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
}

describe("run owners and interrupted runs", () => {
  it("shows a running run whose owner died as interrupted, once, recorded as a status event", async () => {
    const ws = await freshWorkspace();
    try {
      const run = await ws.registry.createRun({ kind: "train", config: {}, backend: "local" });
      const owner = { ...currentOwner(), pid: deadPid() };
      await ws.registry.transitionRun(run.id, "running", { owner });
      const seen = await ws.registry.getRun(run.id);
      expect([seen.status, seen.error, seen.endedAt !== null]).toEqual([
        "interrupted",
        { code: "RUN_OWNER_GONE", message: `the process that ran it (pid ${owner.pid} on ${owner.host}) ended without recording an outcome (killed?)`, fix: "resume it with `tunekit runs resume RUN` (it continues from its newest checkpoint)" },
        true,
      ]);
      // Read again, and through the list: the verdict was made once.
      expect((await ws.registry.listRuns({})).map((r) => r.status)).toEqual(["interrupted"]);
      expect(await ws.registry.listRuns({ status: "running" })).toEqual([]);
      const statuses = (await ws.registry.listRunEvents(run.id, { type: "status" })).map((e) => [e.name, e.data]);
      expect(statuses).toEqual([
        ["running", { from: "pending" }],
        ["interrupted", { from: "running", reason: "owner-gone", owner }],
      ]);
    } finally {
      await ws.close();
    }
  });

  it("leaves running runs with a live owner, or no owner (a hosted job), running", async () => {
    const ws = await freshWorkspace();
    try {
      const live = await ws.registry.createRun({ kind: "serve", config: {} });
      await ws.registry.transitionRun(live.id, "running", { owner: currentOwner() });
      const hosted = await ws.registry.createRun({ kind: "train", config: {}, backend: "openai" });
      await ws.registry.transitionRun(hosted.id, "running");
      expect((await ws.registry.listRuns({ status: "running" })).map((r) => [r.id, r.owner])).toEqual([
        [hosted.id, null],
        [live.id, currentOwner()],
      ]);
    } finally {
      await ws.close();
    }
  });
});

describe("resumeRunFrom", () => {
  it("supersedes the events of steps after the resumed checkpoint, keeping them in the raw log", async () => {
    const ws = await freshWorkspace();
    try {
      const run = await ws.registry.createRun({ kind: "train", config: {}, backend: "local" });
      await ws.registry.transitionRun(run.id, "running", { owner: currentOwner() });
      const attempt = (steps: number[], base: number) =>
        steps.flatMap((s) => [
          { type: "progress" as const, step: s, data: { loss: base - s / 10 } },
          { type: "metric" as const, step: s, name: "train/loss", value: base - s / 10 },
        ]);
      await ws.registry.appendRunEvents(run.id, [...attempt([1, 2], 3), { type: "checkpoint", step: 2, data: { path: "step-2" } }, ...attempt([3, 4], 3), { type: "log", name: "info", data: { message: "kept" } }]);
      await ws.registry.transitionRun(run.id, "interrupted");

      const { run: resumed, superseded } = await ws.registry.resumeRunFrom(run.id, 2, currentOwner());
      expect([resumed.status, resumed.owner, superseded]).toEqual(["running", currentOwner(), 4]);
      await ws.registry.appendRunEvents(run.id, attempt([3, 4], 2));

      const loss = await ws.registry.listRunEvents(run.id, { type: "metric", name: "train/loss" });
      expect(loss.map((e) => [e.step, e.value])).toEqual([[1, 2.9], [2, 2.8], [3, 1.7], [4, 1.6]]);
      expect((await ws.registry.listRunEvents(run.id, { type: "progress" })).map((e) => e.step)).toEqual([1, 2, 3, 4]);
      const resume = (await ws.registry.listRunEvents(run.id, { type: "status" })).at(-1)!;
      expect([resume.name, resume.data]).toEqual(["running", { from: "interrupted", resumedFromStep: 2 }]);
      const raw = await ws.registry.listRunEvents(run.id, { type: "metric", includeSuperseded: true });
      expect(raw.map((e) => [e.step, e.value, e.supersededBy])).toEqual([[1, 2.9, undefined], [2, 2.8, undefined], [3, 2.7, resume.id], [4, 2.6, resume.id], [3, 1.7, undefined], [4, 1.6, undefined]]);
      expect((await ws.registry.listRunEvents(run.id, { type: "log" })).map((e) => e.data)).toEqual([{ message: "kept" }]);
    } finally {
      await ws.close();
    }
  });
});

describe("registries from before migration 0002", () => {
  it("migrates, and judges a run by the supervisor it kept in its result", async () => {
    const dir = makeTempDir();
    await initWorkspace(dir, { name: "t" });
    const path = join(dir, ".tunekit", "registry.db");
    // Build the 0001 schema alone and write a running run the way tunekit did then.
    const old = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(path) }) });
    const { error } = await new Migrator({ db: old, provider: migrationProvider }).migrateTo("0001_initial");
    expect(error).toBeUndefined();
    const now = new Date().toISOString();
    const row = { kind: "train", name: null, config: "{}", backend: "local", dataset_version_id: null, parent_run_id: null, model_id: null, error: null, cost_usd: null, created_at: now, started_at: now, ended_at: null, updated_at: now };
    await old.insertInto("runs").values([
      { ...row, id: "run_dead", status: "running", result: JSON.stringify({ supervisor: { pid: deadPid(), host: currentOwner().host } }) },
      { ...row, id: "run_live", status: "running", result: JSON.stringify({ supervisor: { pid: process.pid, host: currentOwner().host } }) },
    ]).execute();
    await old.destroy();

    const ws = await openWorkspace({ dir, env: {} });
    try {
      expect((await ws.registry.getRun("run_dead")).status).toBe("interrupted");
      const live = await ws.registry.getRun("run_live");
      expect([live.status, live.owner]).toEqual(["running", { host: currentOwner().host, pid: process.pid, startTime: null, bootId: null }]);
    } finally {
      await ws.close();
    }
  });
});
