import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect, sql, type MigrationProvider } from "kysely";
import { RegistryError } from "../errors/index.js";
import { migrationProvider } from "./migrations.js";
import type { RegistryDatabase } from "./tables.js";

export type RegistryDb = Kysely<RegistryDatabase>;

export interface OpenSqliteOptions {
  path: string;
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the SQLite registry: WAL so readers never block the writer, a busy timeout so
 * concurrent CLI processes wait for the lock instead of failing, foreign keys on, migrations applied.
 */
export async function openSqliteRegistryDb(options: OpenSqliteOptions): Promise<RegistryDb> {
  mkdirSync(dirname(options.path), { recursive: true });
  let sqlite: Database.Database;
  try {
    sqlite = new Database(options.path, { timeout: options.busyTimeoutMs ?? 10_000 });
  } catch (cause) {
    throw new RegistryError("REGISTRY_OPEN_FAILED", `cannot open the registry database at ${options.path}: ${String(cause)}`, {
      fix: "check that the .tunekit folder is writable and not on a network file system",
      cause,
    });
  }
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  const db = new Kysely<RegistryDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrate(db);
  return db;
}

export async function migrate(db: RegistryDb): Promise<void> {
  await runMigrations(db, {
    provider: migrationProvider,
    onError: (error) =>
      new RegistryError("REGISTRY_MIGRATION_FAILED", `registry migration failed: ${String(error)}`, {
        fix: "back up .tunekit/registry.db and report this; the database may be from a newer tunekit",
        cause: error,
      }),
  });
}

export interface MigrationSet {
  provider: MigrationProvider;
  /** Kysely's bookkeeping tables: distinct names let two sets share one database. */
  migrationTableName?: string;
  migrationLockTableName?: string;
  migrationTableSchema?: string;
  /** The error to throw when the set cannot be applied. */
  onError: (error: unknown) => Error;
}

/**
 * The one migration runner (registry and gateway stores). Two processes may open a fresh database at once; the
 * migrator takes its own lock (an advisory lock on PostgreSQL), and we retry the rare SQLite "table already
 * exists" race a few times.
 */
export async function runMigrations(db: Kysely<any>, set: MigrationSet): Promise<void> {
  const { provider, migrationTableName, migrationLockTableName, migrationTableSchema } = set;
  for (let attempt = 0; ; attempt++) {
    const { error } = await new Migrator({ db, provider, migrationTableName, migrationLockTableName, migrationTableSchema }).migrateToLatest();
    if (!error) return;
    if (attempt >= 3) throw set.onError(error);
    await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
  }
}

/**
 * Runs `fn` in a write transaction that takes the lock up front (BEGIN IMMEDIATE on SQLite), so a
 * read-then-write (next version number) can never interleave with another process's write.
 */
export async function writeTransaction<T>(db: RegistryDb, fn: (trx: RegistryDb) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn);
      throw error;
    }
  });
}
