import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openPostgresLogStore } from "./postgres-store.js";
import type { LogStore, RequestRecord } from "./records.js";
import { openGatewayDb, openSqliteLogStore } from "./sqlite-store.js";

const PG_URL = process.env.TUNEKIT_TEST_POSTGRES_URL;
const schema = `tk_store_${process.pid}_${Date.now()}`;
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (!PG_URL) return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

const record = (id: string, ts: number, extra: Partial<RequestRecord> = {}): RequestRecord => ({
  id, ts, model: "m", variant: "a", experiment: null, backend: "a", status: 200, errorCode: null, stream: false, latencyMs: 12.5, ttftMs: 10,
  attempts: 1, promptTokens: 5, completionTokens: 7, costUsd: 0.0001, keyId: null, userKey: "u1", input: '[{"role":"user","content":"hi"}]', output: "yo", finishReason: "stop",
  ...extra,
});

async function sqliteStore(): Promise<{ store: LogStore; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "tunekit-store-"));
  dirs.push(dir);
  const db = await openGatewayDb(join(dir, "gateway.db"));
  const store = await openSqliteLogStore(db);
  return {
    store,
    close: async () => {
      await store.close();
      db.close();
    },
  };
}

async function postgresStore(): Promise<{ store: LogStore; close: () => Promise<void> }> {
  const store = await openPostgresLogStore(PG_URL!, { schema });
  return { store, close: () => store.close() };
}

describe.each([
  ["sqlite", sqliteStore, false],
  ["postgres", postgresStore, !PG_URL],
] as const)("request log on %s", (kind, open, skip) => {
  it.skipIf(skip)("stores batches idempotently, filters, feedback, and applies retention", async () => {
    const { store, close } = await open();
    try {
      expect(store.kind).toBe(kind);
      const rows = [record("r1", 1000), record("r2", 2000, { variant: "b", stream: true, ttftMs: null, promptTokens: 3_000_000_000 }), record("r3", 3000), record("r4", 3000)];
      await store.insertRequests(rows);
      await store.insertRequests(rows.slice(0, 2)); // a replayed segment
      expect(await store.countRequests()).toBe(4);
      expect(await store.listRequests({ variant: "b" })).toEqual([rows[1]]);
      expect(await store.listRequests({ since: 2000, until: 3000 })).toEqual([rows[1]]);
      expect((await store.listRequests({ limit: 2 })).map((r) => r.id)).toEqual(["r1", "r2"]);
      expect(await store.getRequest("r3")).toEqual(rows[2]);
      expect(await store.getRequest("nope")).toBeNull();
      const fb = await store.insertFeedback({ requestId: "r1", score: 0, correction: "better" }, 5000);
      expect(fb).toEqual({ id: fb.id, requestId: "r1", ts: 5000, score: 0, label: null, correction: "better", comment: null });
      await store.insertFeedback({ requestId: "r4", label: "card" }, 6000);
      expect((await store.listFeedback({ since: 5500 })).map((f) => [f.requestId, f.label])).toEqual([["r4", "card"]]);
      await expect(store.insertFeedback({ requestId: "zz", score: 1 }, 1)).rejects.toMatchObject({ code: "GATEWAY_REQUEST_NOT_FOUND" });
      expect(await store.applyRetention({ olderThan: 1500 })).toBe(1);
      // r3 and r4 share a timestamp: the newest by (ts, id) is kept
      expect(await store.applyRetention({ maxRecords: 1 })).toBe(2);
      expect((await store.listRequests()).map((r) => r.id)).toEqual(["r4"]);
      expect((await store.listFeedback()).map((f) => f.requestId)).toEqual(["r4"]);
      expect(await store.applyRetention({ maxRecords: 5 })).toBe(0);
    } finally {
      await close();
    }
  });

  it.skipIf(skip)("iterates every row once in (ts, id) order, a page at a time, ties on ts included", async () => {
    const { store, close } = await open();
    try {
      // Its own variant: the other tests of this backend share the table. 7 rows over pages of 3: the page
      // boundaries fall inside the runs of equal ts (p-1..p-3 at 100, p-4..p-6 at 200).
      const rows = ["p-6:200", "p-2:100", "p-7:300", "p-4:200", "p-1:100", "p-5:200", "p-3:100"].map((s) => record(s.slice(0, 3), Number(s.slice(4)), { variant: "paged" }));
      await store.insertRequests([...rows, record("other", 150)]);
      const seen: string[] = [];
      for await (const r of store.iterateRequests({ variant: "paged", pageSize: 3 })) seen.push(`${r.id}:${r.ts}`);
      expect(seen).toEqual(["p-1:100", "p-2:100", "p-3:100", "p-4:200", "p-5:200", "p-6:200", "p-7:300"]);
      const fromSince: RequestRecord[] = [];
      for await (const r of store.iterateRequests({ variant: "paged", since: 200, until: 300, pageSize: 2 })) fromSince.push(r);
      expect(fromSince).toEqual([rows[3], rows[5], rows[0]]);
      // The default page (500) over more rows than one page.
      const many = Array.from({ length: 1203 }, (_, i) => record(`m-${String(i).padStart(4, "0")}`, 1_000_000 + Math.floor(i / 7), { variant: "many" }));
      await store.insertRequests([...many].reverse());
      const ids: string[] = [];
      for await (const r of store.iterateRequests({ variant: "many" })) ids.push(r.id);
      expect(ids).toEqual(many.map((r) => r.id));
    } finally {
      await close();
    }
  });

  it.skipIf(skip)("inserts a batch larger than one statement's bind parameters", async () => {
    const { store, close } = await open();
    try {
      const before = await store.countRequests();
      const many = Array.from({ length: 3500 }, (_, i) => record(`bulk-${i}`, 10_000 + i));
      await store.insertRequests(many);
      expect((await store.countRequests()) - before).toBe(3500);
    } finally {
      await close();
    }
  });
});

/** gateway.db exactly as the tunekit before migrations created it (src/gateway/sqlite-store.ts, hand-written DDL). */
const OLD_DDL = `
  CREATE TABLE IF NOT EXISTS requests (id TEXT PRIMARY KEY, ts INTEGER, model TEXT, variant TEXT, experiment TEXT, backend TEXT, status INTEGER,
    error_code TEXT, stream INTEGER, latency_ms REAL, ttft_ms REAL, attempts INTEGER, prompt_tokens INTEGER, completion_tokens INTEGER, cost_usd REAL,
    key_id TEXT, user_key TEXT, input TEXT, output TEXT, finish_reason TEXT);
  CREATE INDEX IF NOT EXISTS requests_ts ON requests (ts);
  CREATE INDEX IF NOT EXISTS requests_variant_ts ON requests (variant, ts);
  CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL, ts INTEGER NOT NULL,
    score REAL, label TEXT, correction TEXT, comment TEXT);
  CREATE INDEX IF NOT EXISTS feedback_request ON feedback (request_id);
  CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, salt TEXT NOT NULL, hash TEXT NOT NULL,
    scopes TEXT NOT NULL, requests_per_minute REAL, burst INTEGER, created_at INTEGER NOT NULL, revoked_at INTEGER);
  CREATE TABLE IF NOT EXISTS experiment_state (name TEXT PRIMARY KEY, status TEXT NOT NULL, winner TEXT, updated_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS experiment_events (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, ts INTEGER NOT NULL,
    action TEXT NOT NULL, status TEXT NOT NULL, winner TEXT, actor TEXT);`;

describe("gateway.db migrations", () => {
  it("opens a gateway.db built by the old DDL, keeps its rows, and records both migration sets", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tunekit-olddb-"));
    dirs.push(dir);
    const path = join(dir, "gateway.db");
    const old = new Database(path);
    old.exec(OLD_DDL);
    old.prepare("INSERT INTO requests (id, ts, model, status, stream, latency_ms, attempts) VALUES ('old-1', 42, 'm', 200, 0, 5.5, 1)").run();
    old.prepare("INSERT INTO feedback (request_id, ts, score) VALUES ('old-1', 43, 1)").run();
    old.prepare("INSERT INTO api_keys (id, name, salt, hash, scopes, created_at) VALUES ('k1', 'app', 's', 'h', 'serve', 1)").run();
    const schemaBefore = old.prepare("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all();
    old.close();

    const db = await openGatewayDb(path);
    const store = await openSqliteLogStore(db);
    try {
      expect(await store.getRequest("old-1")).toMatchObject({ id: "old-1", ts: 42, latencyMs: 5.5, stream: false });
      expect((await store.listFeedback()).map((f) => [f.requestId, f.score])).toEqual([["old-1", 1]]);
      expect(db.prepare("SELECT id, name FROM api_keys").all()).toEqual([{ id: "k1", name: "app" }]);
      const migrated = [...db.prepare("SELECT name FROM gateway_control_migration").all(), ...db.prepare("SELECT name FROM gateway_log_migration").all()];
      expect(migrated).toEqual([{ name: "0001_keys_experiments" }, { name: "0001_requests_feedback" }]);
      // the old tables are untouched: only the migrator's bookkeeping tables were added
      const after = db.prepare("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE 'gateway_%migration%' ORDER BY name").all();
      expect(after).toEqual(schemaBefore);
      await store.insertRequests([record("new-1", 50)]);
      expect(await store.countRequests()).toBe(2);
    } finally {
      await store.close();
      db.close();
    }
    // and opening it again is a no-op
    const again = await openGatewayDb(path);
    expect((again.prepare("SELECT count(*) AS n FROM gateway_control_migration").get() as { n: number }).n).toBe(1);
    again.close();
  });
});
