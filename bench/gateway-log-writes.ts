/**
 * How long the gateway's event loop stalls while the request log is written to gateway.db (SQLite). better-sqlite3
 * is synchronous, and the gateway answers requests on the same loop, so every millisecond a flush holds the loop
 * is added to the latency of the requests arriving meanwhile.
 * Usage: node --import tsx bench/gateway-log-writes.ts [--flushes 50] [--rows 200] [--rounds 2]
 *   1. baseline: the same loop building the same records, nothing written
 *   2. kysely: one multi-row INSERT per flush through Kysely (PostgreSQL's path, SQLite's before)
 *   3. prepared: SQLite's path — one prepared INSERT, a transaction per 50 rows, a loop turn between them
 * Each flush is followed by 20 ms idle (1,000 requests/s flushed every 200 ms = 200 rows). Event-loop delay is
 * sampled by perf_hooks at 1 ms resolution; figures are the p99 and max delay of all samples of a side.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Kysely, SqliteDialect } from "kysely";
import { SqlLogStore } from "../src/gateway/log-store.js";
import type { LogStore, RequestRecord } from "../src/gateway/records.js";
import { openGatewayDb, openSqliteLogStore } from "../src/gateway/sqlite-store.js";
import type { GatewayDatabase } from "../src/gateway/store-schema.js";
import { numberFlag } from "./flags.js";

const FLUSHES = numberFlag("flushes", 50);
const ROWS = numberFlag("rows", 200);
const ROUNDS = numberFlag("rounds", 2);

let n = 0;
const input = JSON.stringify([{ role: "system", content: "You are a helpful banking assistant." }, { role: "user", content: "I still have not received my new card, what should I do?" }]);
const record = (): RequestRecord => ({
  id: `req_${(n++).toString(36).padStart(8, "0")}_${process.pid}`, ts: Date.now(), model: "support-ft", variant: "b", experiment: "exp-1",
  backend: "local", status: 200, errorCode: null, stream: true, latencyMs: 412.5, ttftMs: 38.1, attempts: 1, promptTokens: 41,
  completionTokens: 63, costUsd: 0.000021, keyId: "key_1", userKey: "u-118", input, output: "Cards arrive within 5 working days; if yours has not, I can order a replacement.", finishReason: "stop",
});

async function measure(store: LogStore | null): Promise<{ p99: number; max: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  for (let i = 0; i < FLUSHES; i++) {
    const rows = Array.from({ length: ROWS }, record);
    if (store) await store.insertRequests(rows);
    await new Promise((r) => setTimeout(r, 20));
  }
  h.disable();
  return { p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

const dir = mkdtempSync(join(tmpdir(), "tunekit-logwrites-"));
const db = await openGatewayDb(join(dir, "gateway.db"));
try {
  const sides: Array<[string, LogStore | null]> = [
    ["baseline (no writes)", null],
    ["kysely multi-row INSERT", new SqlLogStore(new Kysely<GatewayDatabase>({ dialect: new SqliteDialect({ database: db }) }), "sqlite", false)],
    ["prepared INSERT, 50-row slices", await openSqliteLogStore(db)],
  ];
  const results: Record<string, Array<{ p99: number; max: number }>> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, store] of sides) (results[name] ??= []).push(await measure(store));
  }
  for (const [name, rs] of Object.entries(results)) {
    console.log(`${name.padEnd(32)} event-loop delay p99 ${rs.map((r) => r.p99.toFixed(2)).join(" / ")} ms   max ${rs.map((r) => r.max.toFixed(2)).join(" / ")} ms`);
  }
  console.log(JSON.stringify({ flushes: FLUSHES, rows: ROWS, results }));
} finally {
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
