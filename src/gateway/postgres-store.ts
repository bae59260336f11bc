import pg from "pg";
import { RegistryError } from "../errors/index.js";
import { redactSecrets } from "../log/index.js";
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
import { requestWhere, unknownRequest } from "./sqlite-store.js";

const PG_TYPES = { text: "TEXT", int: "BIGINT", real: "DOUBLE PRECISION" } as const;

/** The request log and feedback in PostgreSQL (gateway.logging.backend: postgres). */
export class PostgresLogStore implements LogStore {
  readonly kind = "postgres";
  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string, options: { schema?: string } = {}): Promise<PostgresLogStore> {
    const schema = options.schema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name ${schema}`);
    const pool = new pg.Pool({ connectionString: url, max: 4, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
    pool.on("error", () => undefined); // idle-client errors surface on the next query
    const store = new PostgresLogStore(pool);
    try {
      if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await store.query(`
        CREATE TABLE IF NOT EXISTS requests (${REQUEST_COLUMNS.map(([n, t]) => `${n} ${PG_TYPES[t]}${n === "id" ? " PRIMARY KEY" : ""}`).join(", ")});
        CREATE INDEX IF NOT EXISTS requests_ts ON requests (ts);
        CREATE INDEX IF NOT EXISTS requests_variant_ts ON requests (variant, ts);
        CREATE TABLE IF NOT EXISTS feedback (id BIGSERIAL PRIMARY KEY, request_id TEXT NOT NULL, ts BIGINT NOT NULL,
          score DOUBLE PRECISION, label TEXT, correction TEXT, comment TEXT);
        CREATE INDEX IF NOT EXISTS feedback_request ON feedback (request_id);`);
      return store;
    } catch (cause) {
      await pool.end().catch(() => undefined);
      throw new RegistryError("GATEWAY_POSTGRES_UNAVAILABLE", `cannot use PostgreSQL at ${redactSecrets(maskPassword(url))}: ${(cause as Error).message}`, {
        fix: "check gateway.logging.url (or TUNEKIT_GATEWAY__LOGGING__URL) and that the server is running; scripts/start-postgres.sh starts a local one",
        cause,
      });
    }
  }

  private async query(text: string, params: unknown[] = []): Promise<pg.QueryResult<Record<string, unknown>>> {
    return this.pool.query(text, params);
  }

  async insertRequests(records: readonly RequestRecord[]): Promise<void> {
    const width = REQUEST_COLUMNS.length;
    // 65535 bind parameters at most per statement.
    const per = Math.floor(60_000 / width);
    for (let start = 0; start < records.length; start += per) {
      const chunk = records.slice(start, start + per);
      const values = chunk.map((_, r) => `(${REQUEST_COLUMNS.map((__, c) => `$${r * width + c + 1}`).join(", ")})`).join(", ");
      await this.query(
        `INSERT INTO requests (${REQUEST_COLUMNS.map(([n]) => n).join(", ")}) VALUES ${values} ON CONFLICT (id) DO NOTHING`,
        chunk.flatMap(recordToRow),
      );
    }
  }

  async insertFeedback(input: FeedbackInput, ts: number): Promise<FeedbackRecord> {
    const exists = await this.query("SELECT 1 FROM requests WHERE id = $1", [input.requestId]);
    if (exists.rowCount === 0) throw unknownRequest(input.requestId);
    const res = await this.query(
      "INSERT INTO feedback (request_id, ts, score, label, correction, comment) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
      [input.requestId, ts, input.score ?? null, input.label ?? null, input.correction ?? null, input.comment ?? null],
    );
    return rowToFeedback(res.rows[0]);
  }

  async getRequest(id: string): Promise<RequestRecord | null> {
    const res = await this.query("SELECT * FROM requests WHERE id = $1", [id]);
    return res.rows[0] ? rowToRecord(res.rows[0]) : null;
  }

  async listRequests(filter: ListRequestsFilter = {}): Promise<RequestRecord[]> {
    const { where, params } = requestWhere(filter, (i) => `$${i}`);
    const limit = filter.limit ? ` LIMIT ${Math.floor(filter.limit)}` : "";
    return (await this.query(`SELECT * FROM requests${where} ORDER BY ts, id${limit}`, params)).rows.map(rowToRecord);
  }

  async countRequests(): Promise<number> {
    return Number((await this.query("SELECT count(*) AS n FROM requests")).rows[0].n);
  }

  async listFeedback(filter: { since?: number } = {}): Promise<FeedbackRecord[]> {
    return (await this.query("SELECT * FROM feedback WHERE ts >= $1 ORDER BY id", [filter.since ?? 0])).rows.map(rowToFeedback);
  }

  async applyRetention(options: { olderThan?: number; maxRecords?: number }): Promise<number> {
    let deleted = 0;
    if (options.olderThan !== undefined) deleted += (await this.query("DELETE FROM requests WHERE ts < $1", [options.olderThan])).rowCount ?? 0;
    if (options.maxRecords !== undefined) {
      deleted +=
        (await this.query("DELETE FROM requests WHERE id IN (SELECT id FROM requests ORDER BY ts DESC, id DESC OFFSET $1)", [options.maxRecords]))
          .rowCount ?? 0;
    }
    if (deleted > 0) await this.query("DELETE FROM feedback WHERE request_id NOT IN (SELECT id FROM requests)");
    return deleted;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function maskPassword(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, "//$1:[REDACTED]@");
}
