import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { NotFoundError, RegistryError } from "../errors/index.js";
import {
  REQUEST_COLUMNS,
  recordToRow,
  rowToFeedback,
  rowToRecord,
  type FeedbackInput,
  type FeedbackRecord,
  type ListRequestsFilter,
  type LogStore,
  type RequestRecord,
} from "./records.js";

type Db = Database.Database;

const SQL_TYPES = { text: "TEXT", int: "INTEGER", real: "REAL" } as const;

/**
 * .tunekit/gateway.db: the gateway's own SQLite file (WAL), apart from the registry so that a busy gateway never
 * holds the registry's write lock. It always holds the control plane (client keys, experiment state) and, with
 * the default logging backend, the request log and feedback.
 */
export function openGatewayDb(path: string): Db {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 10000");
    db.exec(`
      CREATE TABLE IF NOT EXISTS requests (${REQUEST_COLUMNS.map(([n, t]) => `${n} ${SQL_TYPES[t]}${n === "id" ? " PRIMARY KEY" : ""}`).join(", ")});
      CREATE INDEX IF NOT EXISTS requests_ts ON requests (ts);
      CREATE INDEX IF NOT EXISTS requests_variant_ts ON requests (variant, ts);
      CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL, ts INTEGER NOT NULL,
        score REAL, label TEXT, correction TEXT, comment TEXT);
      CREATE INDEX IF NOT EXISTS feedback_request ON feedback (request_id);
      CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, salt TEXT NOT NULL, hash TEXT NOT NULL,
        scopes TEXT NOT NULL, requests_per_minute REAL, burst INTEGER, created_at INTEGER NOT NULL, revoked_at INTEGER);
      CREATE TABLE IF NOT EXISTS experiment_state (name TEXT PRIMARY KEY, status TEXT NOT NULL, winner TEXT, updated_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS experiment_events (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, ts INTEGER NOT NULL,
        action TEXT NOT NULL, status TEXT NOT NULL, winner TEXT, actor TEXT);
    `);
    return db;
  } catch (cause) {
    throw new RegistryError("GATEWAY_DB_OPEN_FAILED", `cannot open the gateway database ${path}: ${(cause as Error).message}`, {
      fix: "check that .tunekit/ is writable and the file is not corrupted (move it aside to start a fresh log)",
      cause,
    });
  }
}

export class SqliteLogStore implements LogStore {
  readonly kind = "sqlite";
  private readonly insert: Database.Statement;
  private readonly insertMany: (records: readonly RequestRecord[]) => void;

  constructor(private readonly db: Db, private readonly ownsDb = false) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO requests (${REQUEST_COLUMNS.map(([n]) => n).join(", ")}) VALUES (${REQUEST_COLUMNS.map(() => "?").join(", ")})`,
    );
    this.insertMany = db.transaction((records: readonly RequestRecord[]) => {
      for (const r of records) this.insert.run(recordToRow(r));
    });
  }

  async insertRequests(records: readonly RequestRecord[]): Promise<void> {
    if (records.length > 0) this.insertMany(records);
  }

  async insertFeedback(input: FeedbackInput, ts: number): Promise<FeedbackRecord> {
    if (!this.db.prepare("SELECT 1 FROM requests WHERE id = ?").get(input.requestId)) throw unknownRequest(input.requestId);
    const info = this.db
      .prepare("INSERT INTO feedback (request_id, ts, score, label, correction, comment) VALUES (?, ?, ?, ?, ?, ?)")
      .run(input.requestId, ts, input.score ?? null, input.label ?? null, input.correction ?? null, input.comment ?? null);
    return rowToFeedback(this.db.prepare("SELECT * FROM feedback WHERE id = ?").get(info.lastInsertRowid) as Record<string, unknown>);
  }

  async getRequest(id: string): Promise<RequestRecord | null> {
    const row = this.db.prepare("SELECT * FROM requests WHERE id = ?").get(id) as Record<string, unknown> | undefined;
    return row ? rowToRecord(row) : null;
  }

  async listRequests(filter: ListRequestsFilter = {}): Promise<RequestRecord[]> {
    const { where, params } = requestWhere(filter, () => "?");
    const limit = filter.limit ? ` LIMIT ${Math.floor(filter.limit)}` : "";
    const rows = this.db.prepare(`SELECT * FROM requests${where} ORDER BY ts, id${limit}`).all(...params) as Record<string, unknown>[];
    return rows.map(rowToRecord);
  }

  async countRequests(): Promise<number> {
    return (this.db.prepare("SELECT count(*) AS n FROM requests").get() as { n: number }).n;
  }

  async listFeedback(filter: { since?: number } = {}): Promise<FeedbackRecord[]> {
    const rows = this.db.prepare("SELECT * FROM feedback WHERE ts >= ? ORDER BY id").all(filter.since ?? 0) as Record<string, unknown>[];
    return rows.map(rowToFeedback);
  }

  async applyRetention(options: { olderThan?: number; maxRecords?: number }): Promise<number> {
    let deleted = 0;
    this.db.transaction(() => {
      if (options.olderThan !== undefined) deleted += this.db.prepare("DELETE FROM requests WHERE ts < ?").run(options.olderThan).changes;
      if (options.maxRecords !== undefined) {
        deleted += this.db
          .prepare("DELETE FROM requests WHERE id IN (SELECT id FROM requests ORDER BY ts DESC, id DESC LIMIT -1 OFFSET ?)")
          .run(options.maxRecords).changes;
      }
      if (deleted > 0) this.db.prepare("DELETE FROM feedback WHERE request_id NOT IN (SELECT id FROM requests)").run();
    })();
    return deleted;
  }

  async close(): Promise<void> {
    if (this.ownsDb) this.db.close();
  }
}

export function requestWhere(filter: ListRequestsFilter, placeholder: (i: number) => string): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace("?", placeholder(params.length)));
  };
  if (filter.since !== undefined) add("ts >= ?", filter.since);
  if (filter.until !== undefined) add("ts < ?", filter.until);
  if (filter.variant !== undefined) add("variant = ?", filter.variant);
  if (filter.experiment !== undefined) add("experiment = ?", filter.experiment);
  return { where: clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "", params };
}

export function unknownRequest(id: string): NotFoundError {
  return new NotFoundError("GATEWAY_REQUEST_NOT_FOUND", `no logged request has id ${JSON.stringify(id)}`, {
    fix: "send the value of the x-tunekit-request-id response header (records land in the log within a second of the response)",
  });
}
