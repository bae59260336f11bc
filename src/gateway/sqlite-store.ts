import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Kysely, SqliteDialect } from "kysely";
import { RegistryError } from "../errors/index.js";
import { runMigrations } from "../registry/index.js";
import { SqlLogStore, type RowWriter } from "./log-store.js";
import { recordToRow, type RequestRecord } from "./records.js";
import { CONTROL_MIGRATION_TABLE, controlMigrations, LOG_MIGRATION_TABLE, logMigrations, type GatewayDatabase } from "./store-schema.js";

type Db = Database.Database;

/**
 * .tunekit/gateway.db: the gateway's own SQLite file (WAL), apart from the registry so that a busy gateway never
 * holds the registry's write lock. It always holds the control plane (client keys, experiment state: read
 * synchronously on the request path through better-sqlite3) and, with the default logging backend, the request
 * log and feedback. Its schema comes from the migrations in store-schema.ts.
 */
export async function openGatewayDb(path: string): Promise<Db> {
  let db: Db;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 10000");
  } catch (cause) {
    throw new RegistryError("GATEWAY_DB_OPEN_FAILED", `cannot open the gateway database ${path}: ${(cause as Error).message}`, {
      fix: "check that .tunekit/ is writable and the file is not corrupted (move it aside to start a fresh log)",
      cause,
    });
  }
  try {
    await runMigrations(kyselyOver(db), { provider: controlMigrations, ...bookkeeping(CONTROL_MIGRATION_TABLE), onError: (error) => migrationFailed(path, error) });
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The request log in gateway.db (the default backend); the file stays open until its owner closes `db`. */
export async function openSqliteLogStore(db: Db): Promise<SqlLogStore> {
  const kysely = kyselyOver(db);
  await runMigrations(kysely, { provider: logMigrations("sqlite"), ...bookkeeping(LOG_MIGRATION_TABLE), onError: (error) => migrationFailed(db.name, error) });
  return new SqlLogStore(kysely, "sqlite", false, prepareRowWriter(db));
}

/** One prepared INSERT for the request log, its columns in recordToRow's order, run in a transaction per call. */
function prepareRowWriter(db: Db): RowWriter {
  const columns = Object.keys(recordToRow(COLUMN_PROBE));
  const insert = db.prepare(`INSERT INTO requests (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")}) ON CONFLICT (id) DO NOTHING`);
  return db.transaction((rows: Parameters<RowWriter>[0]) => {
    for (const row of rows) insert.run(columns.map((c) => (row as Record<string, unknown>)[c]));
  });
}

/** Any record: only its keys matter (which columns recordToRow fills, in which order). */
const COLUMN_PROBE: RequestRecord = {
  id: "", ts: 0, model: "", variant: null, experiment: null, backend: null, status: 0, errorCode: null, stream: false, latencyMs: 0,
  ttftMs: null, attempts: 0, promptTokens: null, completionTokens: null, costUsd: null, keyId: null, userKey: null, input: null,
  output: null, finishReason: null,
};

/** Kysely over an open handle; nothing to release (destroying it would close the shared file). */
function kyselyOver(db: Db): Kysely<GatewayDatabase> {
  return new Kysely<GatewayDatabase>({ dialect: new SqliteDialect({ database: db }) });
}

export function bookkeeping(table: string): { migrationTableName: string; migrationLockTableName: string } {
  return { migrationTableName: table, migrationLockTableName: `${table}_lock` };
}

function migrationFailed(path: string, cause: unknown): RegistryError {
  return new RegistryError("GATEWAY_DB_MIGRATION_FAILED", `cannot migrate the gateway database ${path}: ${String(cause)}`, {
    fix: "back up the file and report this; it may come from a newer tunekit (move it aside to start a fresh log)",
    cause,
  });
}
