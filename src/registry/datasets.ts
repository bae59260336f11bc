import { ConflictError, NotFoundError } from "../errors/index.js";
import type { RegistryDb } from "./database.js";
import { writeTransaction } from "./database.js";
import { newId, nowIso } from "./ids.js";
import { parseJson, toJson } from "./json-columns.js";

export interface Dataset {
  id: string;
  name: string;
  description: string;
  createdAt: string;
}

export interface DatasetVersion {
  id: string;
  datasetId: string;
  datasetName: string;
  number: number;
  /** sha256 of the version's canonical JSONL: equal content, equal hash. */
  sha256: string;
  parentId: string | null;
  transform: string;
  params: Record<string, unknown>;
  recordCount: number;
  stats: Record<string, unknown> | null;
  report: Record<string, unknown> | null;
  artifactId: string;
  createdAt: string;
}

export interface AddDatasetVersionInput {
  datasetId: string;
  parentId?: string | null;
  transform: string;
  params: Record<string, unknown>;
  sha256: string;
  artifactId: string;
  recordCount: number;
  stats?: Record<string, unknown> | null;
  report?: Record<string, unknown> | null;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class DatasetStore {
  constructor(private readonly db: RegistryDb) {}

  async createDataset(input: { name: string; description?: string }): Promise<Dataset> {
    if (!NAME.test(input.name)) {
      throw new ConflictError("DATASET_BAD_NAME", `dataset name "${input.name}" is not allowed`, {
        fix: "use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit",
      });
    }
    const existing = await this.findDataset(input.name);
    if (existing) {
      throw new ConflictError("DATASET_EXISTS", `a dataset named "${input.name}" already exists`, {
        fix: "choose another --name, or add a version to the existing dataset",
      });
    }
    const row = { id: newId("ds"), name: input.name, description: input.description ?? "", created_at: nowIso() };
    await this.db.insertInto("datasets").values(row).execute();
    return { id: row.id, name: row.name, description: row.description, createdAt: row.created_at };
  }

  async findDataset(name: string): Promise<Dataset | undefined> {
    const row = await this.db.selectFrom("datasets").selectAll().where("name", "=", name).executeTakeFirst();
    return row && { id: row.id, name: row.name, description: row.description, createdAt: row.created_at };
  }

  async getDataset(name: string): Promise<Dataset> {
    const found = await this.findDataset(name);
    if (!found) {
      throw new NotFoundError("DATASET_NOT_FOUND", `no dataset named "${name}"`, {
        fix: "list datasets with `tunekit data list`, or import one with `tunekit data import FILE --name NAME`",
      });
    }
    return found;
  }

  async listDatasets(): Promise<Dataset[]> {
    const rows = await this.db.selectFrom("datasets").selectAll().orderBy("name").execute();
    return rows.map((r) => ({ id: r.id, name: r.name, description: r.description, createdAt: r.created_at }));
  }

  /** Versions are immutable and numbered 1, 2, 3… per dataset; the number is taken under the write lock. */
  async addDatasetVersion(input: AddDatasetVersionInput): Promise<DatasetVersion> {
    const id = newId("dsv");
    await writeTransaction(this.db, async (trx) => {
      const last = await trx
        .selectFrom("dataset_versions")
        .select((eb) => eb.fn.max("number").as("max"))
        .where("dataset_id", "=", input.datasetId)
        .executeTakeFirst();
      await trx
        .insertInto("dataset_versions")
        .values({
          id,
          dataset_id: input.datasetId,
          number: Number(last?.max ?? 0) + 1,
          sha256: input.sha256,
          parent_id: input.parentId ?? null,
          transform: input.transform,
          params: toJson(input.params) as string,
          record_count: input.recordCount,
          stats: toJson(input.stats),
          report: toJson(input.report),
          artifact_id: input.artifactId,
          created_at: nowIso(),
        })
        .execute();
    });
    return this.getDatasetVersion(id);
  }

  async getDatasetVersion(id: string): Promise<DatasetVersion> {
    const row = await this.versionQuery().where("dataset_versions.id", "=", id).executeTakeFirst();
    if (!row) {
      throw new NotFoundError("DATASET_VERSION_NOT_FOUND", `no dataset version with id "${id}"`, {
        fix: "list versions with `tunekit data show NAME`",
      });
    }
    return toVersion(row);
  }

  /** "name" (latest), "name@N" (version N) or a version id ("dsv_…"). */
  async resolveDatasetVersion(ref: string): Promise<DatasetVersion> {
    if (ref.startsWith("dsv_")) return this.getDatasetVersion(ref);
    const at = ref.lastIndexOf("@");
    const name = at > 0 ? ref.slice(0, at) : ref;
    const dataset = await this.getDataset(name);
    let q = this.versionQuery().where("dataset_versions.dataset_id", "=", dataset.id);
    if (at > 0) {
      const number = Number(ref.slice(at + 1));
      if (!Number.isInteger(number) || number < 1) {
        throw new NotFoundError("DATASET_VERSION_NOT_FOUND", `"${ref}" does not name a version`, {
          fix: `write NAME@N with N a version number, e.g. ${name}@1`,
        });
      }
      q = q.where("dataset_versions.number", "=", number);
    } else {
      q = q.orderBy("dataset_versions.number", "desc").limit(1);
    }
    const row = await q.executeTakeFirst();
    if (!row) {
      throw new NotFoundError("DATASET_VERSION_NOT_FOUND", `dataset "${name}" has no version ${at > 0 ? ref.slice(at + 1) : "yet"}`, {
        fix: `list its versions with \`tunekit data show ${name}\``,
      });
    }
    return toVersion(row);
  }

  async listDatasetVersions(datasetId: string): Promise<DatasetVersion[]> {
    const rows = await this.versionQuery()
      .where("dataset_versions.dataset_id", "=", datasetId)
      .orderBy("dataset_versions.number", "asc")
      .execute();
    return rows.map(toVersion);
  }

  private versionQuery() {
    return this.db
      .selectFrom("dataset_versions")
      .innerJoin("datasets", "datasets.id", "dataset_versions.dataset_id")
      .selectAll("dataset_versions")
      .select("datasets.name as dataset_name");
  }
}

function toVersion(row: any): DatasetVersion {
  return {
    id: row.id,
    datasetId: row.dataset_id,
    datasetName: row.dataset_name,
    number: Number(row.number),
    sha256: row.sha256,
    parentId: row.parent_id,
    transform: row.transform,
    params: parseJson(row.params) ?? {},
    recordCount: Number(row.record_count),
    stats: parseJson(row.stats),
    report: parseJson(row.report),
    artifactId: row.artifact_id,
    createdAt: row.created_at,
  };
}
