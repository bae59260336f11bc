import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { ConfigError, RegistryError } from "../errors/index.js";
import { redactSecrets } from "../log/index.js";
import { runMigrations } from "../registry/index.js";
import { SqlLogStore } from "./log-store.js";
import { bookkeeping } from "./sqlite-store.js";
import { LOG_MIGRATION_TABLE, logMigrations, type GatewayDatabase } from "./store-schema.js";

/**
 * The request log and feedback in PostgreSQL (gateway.logging.backend: postgres): a pool of 4, the schema from
 * the same migrations as gateway.db. `schema` (tests) puts the tables in their own schema.
 */
export async function openPostgresLogStore(url: string, options: { schema?: string } = {}): Promise<SqlLogStore> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new ConfigError("GATEWAY_POSTGRES_BAD_SCHEMA", `bad PostgreSQL schema name ${JSON.stringify(schema)}`, { fix: "use lower-case letters, digits and _ only" });
  }
  const pool = new pg.Pool({ connectionString: url, max: 4, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  pool.on("error", () => undefined); // idle-client errors surface on the next query
  const db = new Kysely<GatewayDatabase>({ dialect: new PostgresDialect({ pool }) });
  try {
    if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    // The migrator looks its bookkeeping table up across schemas: pin it to the one the tables go into.
    const current = await sql<{ s: string }>`select current_schema() as s`.execute(db);
    await runMigrations(db, {
      provider: logMigrations("postgres"),
      ...bookkeeping(LOG_MIGRATION_TABLE),
      migrationTableSchema: current.rows[0].s,
      onError: (error) => unavailable(url, error),
    });
    return new SqlLogStore(db, "postgres", true);
  } catch (cause) {
    await db.destroy().catch(() => undefined);
    throw cause instanceof RegistryError ? cause : unavailable(url, cause);
  }
}

function unavailable(url: string, cause: unknown): RegistryError {
  return new RegistryError("GATEWAY_POSTGRES_UNAVAILABLE", `cannot use PostgreSQL at ${redactSecrets(maskPassword(url))}: ${(cause as Error).message}`, {
    fix: "check gateway.logging.url (or TUNEKIT_GATEWAY__LOGGING__URL) and that the server is running; scripts/start-postgres.sh starts a local one",
    cause,
  });
}

function maskPassword(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, "//$1:[REDACTED]@");
}
