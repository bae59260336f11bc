import type { ColumnType, Generated, Kysely, Migration, MigrationProvider } from "kysely";

export type GatewayDialect = "sqlite" | "postgres";

/**
 * Integer columns that may exceed 2^31 (times in ms, token counts) are BIGINT in PostgreSQL, which node-pg
 * returns as strings: selects may give either, so readers convert with Number().
 */
type BigInteger = ColumnType<number | string, number, number>;

/** The gateway's tables, typed once for both backends. Times are ms since the epoch. */
export interface RequestsTable {
  id: string;
  ts: BigInteger;
  model: string;
  variant: string | null;
  experiment: string | null;
  backend: string | null;
  status: number;
  error_code: string | null;
  /** 0 or 1: SQLite has no boolean type. */
  stream: number;
  latency_ms: number;
  ttft_ms: number | null;
  attempts: number;
  prompt_tokens: BigInteger | null;
  completion_tokens: BigInteger | null;
  cost_usd: number | null;
  key_id: string | null;
  user_key: string | null;
  /** The request's messages as JSON text (TEXT on both backends, like the registry's JSON columns). */
  input: string | null;
  output: string | null;
  finish_reason: string | null;
}

export interface FeedbackTable {
  id: Generated<BigInteger>;
  request_id: string;
  ts: BigInteger;
  score: number | null;
  label: string | null;
  correction: string | null;
  comment: string | null;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  salt: string;
  hash: string;
  scopes: string;
  requests_per_minute: number | null;
  burst: number | null;
  created_at: number;
  revoked_at: number | null;
}

export interface ExperimentStateTable {
  name: string;
  status: string;
  winner: string | null;
  updated_at: number;
}

export interface ExperimentEventsTable {
  id: Generated<number>;
  name: string;
  ts: number;
  action: string;
  status: string;
  winner: string | null;
  actor: string | null;
}

/** Request log (SQLite or PostgreSQL) and control plane (always .tunekit/gateway.db). */
export interface GatewayDatabase {
  requests: RequestsTable;
  feedback: FeedbackTable;
  api_keys: ApiKeysTable;
  experiment_state: ExperimentStateTable;
  experiment_events: ExperimentEventsTable;
}

/**
 * Two migration sets, each with its own bookkeeping table: the request log (on whichever backend logs) and the
 * control plane (gateway.db only). Never edit a released migration; add the next one. The first migration of each
 * uses IF NOT EXISTS and exactly the DDL of the tunekit before migrations, so a gateway.db (or PostgreSQL schema)
 * that code created opens unchanged and is simply marked as migrated.
 */
export const LOG_MIGRATION_TABLE = "gateway_log_migration";
export const CONTROL_MIGRATION_TABLE = "gateway_control_migration";

export function logMigrations(dialect: GatewayDialect): MigrationProvider {
  const int = dialect === "postgres" ? "bigint" : "integer";
  const real = dialect === "postgres" ? "double precision" : "real";
  const migrations: Record<string, Migration> = {
    "0001_requests_feedback": {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable("requests")
          .ifNotExists()
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("ts", int)
          .addColumn("model", "text")
          .addColumn("variant", "text")
          .addColumn("experiment", "text")
          .addColumn("backend", "text")
          .addColumn("status", int)
          .addColumn("error_code", "text")
          .addColumn("stream", int)
          .addColumn("latency_ms", real)
          .addColumn("ttft_ms", real)
          .addColumn("attempts", int)
          .addColumn("prompt_tokens", int)
          .addColumn("completion_tokens", int)
          .addColumn("cost_usd", real)
          .addColumn("key_id", "text")
          .addColumn("user_key", "text")
          .addColumn("input", "text")
          .addColumn("output", "text")
          .addColumn("finish_reason", "text")
          .execute();
        await db.schema.createIndex("requests_ts").ifNotExists().on("requests").column("ts").execute();
        await db.schema.createIndex("requests_variant_ts").ifNotExists().on("requests").columns(["variant", "ts"]).execute();
        // The one real DDL difference: an auto-numbered key.
        await db.schema
          .createTable("feedback")
          .ifNotExists()
          .addColumn("id", dialect === "postgres" ? "bigserial" : "integer", (c) => (dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn("request_id", "text", (c) => c.notNull())
          .addColumn("ts", int, (c) => c.notNull())
          .addColumn("score", real)
          .addColumn("label", "text")
          .addColumn("correction", "text")
          .addColumn("comment", "text")
          .execute();
        await db.schema.createIndex("feedback_request").ifNotExists().on("feedback").column("request_id").execute();
      },
    },
  };
  return { getMigrations: async () => migrations };
}

export const controlMigrations: MigrationProvider = {
  getMigrations: async () => ({
    "0001_keys_experiments": {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable("api_keys")
          .ifNotExists()
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("salt", "text", (c) => c.notNull())
          .addColumn("hash", "text", (c) => c.notNull())
          .addColumn("scopes", "text", (c) => c.notNull())
          .addColumn("requests_per_minute", "real")
          .addColumn("burst", "integer")
          .addColumn("created_at", "integer", (c) => c.notNull())
          .addColumn("revoked_at", "integer")
          .execute();
        await db.schema
          .createTable("experiment_state")
          .ifNotExists()
          .addColumn("name", "text", (c) => c.primaryKey())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("winner", "text")
          .addColumn("updated_at", "integer", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("experiment_events")
          .ifNotExists()
          .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("ts", "integer", (c) => c.notNull())
          .addColumn("action", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("winner", "text")
          .addColumn("actor", "text")
          .execute();
      },
    },
  }),
};
