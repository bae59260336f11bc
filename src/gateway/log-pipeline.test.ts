import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LogPipeline } from "./log-pipeline.js";
import type { LogStore, RequestRecord } from "./records.js";
import { openGatewayDb, openSqliteLogStore } from "./sqlite-store.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const record = (id: string): RequestRecord => ({
  id, ts: 1000, model: "m", variant: "a", experiment: null, backend: "a", status: 200, errorCode: null, stream: false, latencyMs: 1, ttftMs: null,
  attempts: 1, promptTokens: null, completionTokens: null, costUsd: null, keyId: null, userKey: null, input: null, output: null, finishReason: null,
});

async function setup() {
  const stateDir = mkdtempSync(join(tmpdir(), "tunekit-pipe-"));
  dirs.push(stateDir);
  const db = await openGatewayDb(join(stateDir, "gateway.db"));
  const store = await openSqliteLogStore(db);
  const start = (s: LogStore = store) => LogPipeline.start({ store: s, walDir: join(stateDir, "gateway-wal"), durability: "fsync", batchSize: 100, flushMs: 60_000, redactPii: false });
  return { stateDir, db, store, start };
}

describe("log pipeline", () => {
  it("a clean close stores everything and removes the process's write-ahead folder", async () => {
    const { stateDir, db, store, start } = await setup();
    const pipeline = await start();
    await pipeline.log(record("a"));
    await pipeline.log(record("b"));
    expect(readdirSync(pipeline.segmentDir!).sort()).toEqual(["owner.json", "segment-000000000001.jsonl"]);
    await pipeline.close();
    expect([await store.countRequests(), existsSync(pipeline.segmentDir!), readdirSync(join(stateDir, "gateway-wal"))]).toEqual([2, false, []]);
    db.close();
  });

  it("keeps the folder when the database refuses the last batch, and the next gateway stores it", async () => {
    const { db, store, start } = await setup();
    // The real store, except that every batch insert fails.
    const failing = Object.assign(Object.create(store) as LogStore, { insertRequests: () => Promise.reject(new Error("disk full")) });
    const first = await start(failing);
    await first.log(record("kept"));
    await first.close();
    expect([first.stats.failedBatches > 0, existsSync(first.segmentDir!)]).toEqual([true, true]);
    // Same process, so its owner is alive: a second pipeline here leaves the folder alone.
    const second = await start();
    expect(second.stats.replayed).toBe(0);
    await second.close();
    expect(await store.countRequests()).toBe(0);
    // Once that process is gone (its owner.json now names an exited pid), the next start stores the record.
    const ownerPath = join(first.segmentDir!, "owner.json");
    writeFileSync(ownerPath, JSON.stringify({ ...JSON.parse(readFileSync(ownerPath, "utf8")), pid: spawnSync(process.execPath, ["-e", "0"]).pid }));
    const third = await start();
    expect([third.stats.replayed, await store.countRequests(), existsSync(first.segmentDir!)]).toEqual([1, 1, false]);
    await third.close();
    db.close();
  });
});
