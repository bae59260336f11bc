import { sql, type Kysely, type Migration, type MigrationProvider } from "kysely";

/**
 * Versioned migrations, in code so they ship inside the package. Only portable schema-builder calls: the same
 * migrations build the PostgreSQL schema. Never edit a released migration; add the next one.
 */
const migrations: Record<string, Migration> = {
  "0001_initial": {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("datasets")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("artifacts")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("sha256", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("path", "text", (c) => c.notNull())
        .addColumn("size", "bigint", (c) => c.notNull())
        .addColumn("run_id", "text")
        .addColumn("meta", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("artifacts_sha256").on("artifacts").column("sha256").execute();
      await db.schema
        .createTable("dataset_versions")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("dataset_id", "text", (c) => c.notNull().references("datasets.id"))
        .addColumn("number", "integer", (c) => c.notNull())
        .addColumn("sha256", "text", (c) => c.notNull())
        .addColumn("parent_id", "text", (c) => c.references("dataset_versions.id"))
        .addColumn("transform", "text", (c) => c.notNull())
        .addColumn("params", "text", (c) => c.notNull())
        .addColumn("record_count", "integer", (c) => c.notNull())
        .addColumn("stats", "text")
        .addColumn("report", "text")
        .addColumn("artifact_id", "text", (c) => c.notNull().references("artifacts.id"))
        .addColumn("created_at", "text", (c) => c.notNull())
        .addUniqueConstraint("dataset_versions_number", ["dataset_id", "number"])
        .execute();
      await db.schema
        .createTable("runs")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("name", "text")
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("config", "text", (c) => c.notNull())
        .addColumn("backend", "text")
        .addColumn("dataset_version_id", "text", (c) => c.references("dataset_versions.id"))
        .addColumn("parent_run_id", "text", (c) => c.references("runs.id"))
        .addColumn("model_id", "text")
        .addColumn("result", "text")
        .addColumn("error", "text")
        .addColumn("cost_usd", "double precision")
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("started_at", "text")
        .addColumn("ended_at", "text")
        .addColumn("updated_at", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("runs_kind_created").on("runs").columns(["kind", "created_at"]).execute();
      await db.schema
        .createTable("run_events")
        .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
        .addColumn("run_id", "text", (c) => c.notNull().references("runs.id"))
        .addColumn("ts", "text", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("step", "integer")
        .addColumn("name", "text")
        .addColumn("value", "double precision")
        .addColumn("data", "text")
        .execute();
      await db.schema.createIndex("run_events_run").on("run_events").columns(["run_id", "id"]).execute();
      await db.schema
        .createTable("models")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("provider", "text", (c) => c.notNull())
        .addColumn("path", "text")
        .addColumn("provider_model_id", "text")
        .addColumn("base_model_id", "text", (c) => c.references("models.id"))
        .addColumn("run_id", "text", (c) => c.references("runs.id"))
        .addColumn("dataset_version_id", "text", (c) => c.references("dataset_versions.id"))
        .addColumn("meta", "text")
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
      await sql`select 1`.execute(db);
    },
  },
  "0002_run_owner_and_superseded_events": {
    async up(db: Kysely<any>) {
      // The process that owns a running run (JSON: host, pid, start time, boot id), so a killed owner is detected.
      await db.schema.alterTable("runs").addColumn("owner", "text").execute();
      // A resume supersedes the events of steps after its checkpoint: they stay in the log, pointing at the
      // status event of the resume that replaced them, and are left out of curves and `runs events`.
      await db.schema.alterTable("run_events").addColumn("superseded_by", "integer").execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
