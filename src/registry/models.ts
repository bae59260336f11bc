import { ConflictError, NotFoundError } from "../errors/index.js";
import type { RegistryDb } from "./database.js";
import { newId, nowIso } from "./ids.js";
import { parseJson, toJson } from "./json-columns.js";

export interface Model {
  id: string;
  name: string;
  kind: "base" | "fine_tuned";
  provider: string;
  path: string | null;
  providerModelId: string | null;
  baseModelId: string | null;
  runId: string | null;
  datasetVersionId: string | null;
  meta: Record<string, unknown> | null;
  createdAt: string;
}

export type CreateModelInput = Omit<Model, "id" | "createdAt" | "path" | "providerModelId" | "baseModelId" | "runId" | "datasetVersionId" | "meta"> &
  Partial<Pick<Model, "path" | "providerModelId" | "baseModelId" | "runId" | "datasetVersionId" | "meta">>;

function toModel(r: any): Model {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    provider: r.provider,
    path: r.path,
    providerModelId: r.provider_model_id,
    baseModelId: r.base_model_id,
    runId: r.run_id,
    datasetVersionId: r.dataset_version_id,
    meta: parseJson(r.meta),
    createdAt: r.created_at,
  };
}

/** Models: base models registered by path or provider id, and fine-tuned ones with lineage to run and data. */
export class ModelStore {
  constructor(private readonly db: RegistryDb) {}

  async createModel(input: CreateModelInput): Promise<Model> {
    const taken = await this.db.selectFrom("models").select("id").where("name", "=", input.name).executeTakeFirst();
    if (taken) {
      throw new ConflictError("MODEL_EXISTS", `a model named "${input.name}" already exists`, {
        fix: "choose another name, or use the existing model",
      });
    }
    const row = {
      id: newId("mdl"),
      name: input.name,
      kind: input.kind,
      provider: input.provider,
      path: input.path ?? null,
      provider_model_id: input.providerModelId ?? null,
      base_model_id: input.baseModelId ?? null,
      run_id: input.runId ?? null,
      dataset_version_id: input.datasetVersionId ?? null,
      meta: toJson(input.meta),
      created_at: nowIso(),
    };
    await this.db.insertInto("models").values(row).execute();
    return toModel(row);
  }

  /** By id ("mdl_…") or name. */
  async getModel(ref: string): Promise<Model> {
    const row = await this.db
      .selectFrom("models")
      .selectAll()
      .where((eb) => eb.or([eb("id", "=", ref), eb("name", "=", ref)]))
      .executeTakeFirst();
    if (!row) throw new NotFoundError("MODEL_NOT_FOUND", `no model "${ref}"`, { fix: "list models with `tunekit model list`" });
    return toModel(row);
  }

  async listModels(): Promise<Model[]> {
    return (await this.db.selectFrom("models").selectAll().orderBy("created_at", "desc").execute()).map(toModel);
  }
}
