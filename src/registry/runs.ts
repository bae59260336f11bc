import { NotFoundError } from "../errors/index.js";
import { redactValue } from "../log/redact.js";
import type { RegistryDb } from "./database.js";
import { newId, nowIso } from "./ids.js";
import { assertTransition, type RunKind, type RunStatus } from "./run-status.js";
import { parseJson, toJson } from "./json-columns.js";
import { writeTransaction } from "./database.js";

export interface Run {
  id: string;
  kind: RunKind;
  name: string | null;
  status: RunStatus;
  config: Record<string, unknown>;
  backend: string | null;
  datasetVersionId: string | null;
  parentRunId: string | null;
  modelId: string | null;
  result: Record<string, unknown> | null;
  error: { code: string; message: string; fix?: string } | null;
  costUsd: number | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  updatedAt: string;
}

export interface CreateRunInput {
  kind: RunKind;
  name?: string;
  config: Record<string, unknown>;
  backend?: string;
  datasetVersionId?: string;
  parentRunId?: string;
  modelId?: string;
}

export interface RunFilter {
  kind?: RunKind;
  status?: RunStatus;
  limit?: number;
}

export type RunEventType = "metric" | "log" | "progress" | "checkpoint" | "status";

export interface RunEventInput {
  type: RunEventType;
  step?: number;
  name?: string;
  value?: number;
  data?: Record<string, unknown>;
  ts?: string;
}

export interface RunEvent extends Required<Pick<RunEventInput, "type">> {
  id: number;
  runId: string;
  ts: string;
  step: number | null;
  name: string | null;
  value: number | null;
  data: Record<string, unknown> | null;
}

function toRun(row: any): Run {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    status: row.status,
    config: parseJson(row.config) ?? {},
    backend: row.backend,
    datasetVersionId: row.dataset_version_id,
    parentRunId: row.parent_run_id,
    modelId: row.model_id,
    result: parseJson(row.result),
    error: parseJson(row.error),
    costUsd: row.cost_usd,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    updatedAt: row.updated_at,
  };
}

/** Runs and their events. Stored configs and event payloads pass through secret redaction first. */
export class RunStore {
  constructor(private readonly db: RegistryDb) {}

  async createRun(input: CreateRunInput): Promise<Run> {
    const now = nowIso();
    const row = {
      id: newId("run"),
      kind: input.kind,
      name: input.name ?? null,
      status: "pending",
      config: toJson(redactValue(input.config)) as string,
      backend: input.backend ?? null,
      dataset_version_id: input.datasetVersionId ?? null,
      parent_run_id: input.parentRunId ?? null,
      model_id: input.modelId ?? null,
      result: null,
      error: null,
      cost_usd: null,
      created_at: now,
      started_at: null,
      ended_at: null,
      updated_at: now,
    };
    await this.db.insertInto("runs").values(row).execute();
    return toRun(row);
  }

  async getRun(id: string): Promise<Run> {
    const row = await this.db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) {
      throw new NotFoundError("RUN_NOT_FOUND", `no run with id "${id}"`, { fix: "list runs with `tunekit runs list`" });
    }
    return toRun(row);
  }

  async listRuns(filter: RunFilter = {}): Promise<Run[]> {
    let q = this.db.selectFrom("runs").selectAll().orderBy("created_at", "desc").orderBy("id", "desc");
    if (filter.kind) q = q.where("kind", "=", filter.kind);
    if (filter.status) q = q.where("status", "=", filter.status);
    if (filter.limit) q = q.limit(filter.limit);
    return (await q.execute()).map(toRun);
  }

  /** Moves a run through the state machine atomically and records a `status` event. */
  async transitionRun(
    id: string,
    to: RunStatus,
    extra: { result?: Record<string, unknown>; error?: Run["error"]; costUsd?: number } = {},
  ): Promise<Run> {
    await writeTransaction(this.db, async (trx) => {
      const row = await trx.selectFrom("runs").select(["status", "started_at"]).where("id", "=", id).executeTakeFirst();
      if (!row) throw new NotFoundError("RUN_NOT_FOUND", `no run with id "${id}"`, { fix: "list runs with `tunekit runs list`" });
      assertTransition(id, row.status as RunStatus, to);
      const now = nowIso();
      const terminal = to === "succeeded" || to === "failed" || to === "cancelled" || to === "interrupted";
      await trx
        .updateTable("runs")
        .set({
          status: to,
          updated_at: now,
          ...(to === "running" && !row.started_at ? { started_at: now } : {}),
          ...(to === "running" ? { ended_at: null, error: null } : {}),
          ...(terminal ? { ended_at: now } : {}),
          ...(extra.result !== undefined ? { result: toJson(redactValue(extra.result)) } : {}),
          ...(extra.error !== undefined ? { error: toJson(redactValue(extra.error)) } : {}),
          ...(extra.costUsd !== undefined ? { cost_usd: extra.costUsd } : {}),
        })
        .where("id", "=", id)
        .execute();
      await trx
        .insertInto("run_events")
        .values({ run_id: id, ts: now, type: "status", step: null, name: to, value: null, data: toJson({ from: row.status }) })
        .execute();
    });
    return this.getRun(id);
  }

  async updateRun(
    id: string,
    patch: Partial<Pick<Run, "name" | "config" | "backend" | "modelId" | "result" | "costUsd" | "datasetVersionId">>,
  ): Promise<Run> {
    const set: Record<string, unknown> = { updated_at: nowIso() };
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.config !== undefined) set.config = toJson(redactValue(patch.config));
    if (patch.backend !== undefined) set.backend = patch.backend;
    if (patch.modelId !== undefined) set.model_id = patch.modelId;
    if (patch.result !== undefined) set.result = toJson(redactValue(patch.result));
    if (patch.costUsd !== undefined) set.cost_usd = patch.costUsd;
    if (patch.datasetVersionId !== undefined) set.dataset_version_id = patch.datasetVersionId;
    const res = await this.db.updateTable("runs").set(set).where("id", "=", id).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) {
      throw new NotFoundError("RUN_NOT_FOUND", `no run with id "${id}"`, { fix: "list runs with `tunekit runs list`" });
    }
    return this.getRun(id);
  }

  /** Appends events in one transaction: a batch is all-or-nothing, and cheap (one fsync per batch). */
  async appendRunEvents(runId: string, events: readonly RunEventInput[]): Promise<void> {
    if (events.length === 0) return;
    const now = nowIso();
    const rows = events.map((e) => ({
      run_id: runId,
      ts: e.ts ?? now,
      type: e.type,
      step: e.step ?? null,
      name: e.name ?? null,
      value: e.value ?? null,
      data: e.data === undefined ? null : toJson(redactValue(e.data)),
    }));
    await writeTransaction(this.db, async (trx) => {
      // SQLite caps bound parameters per statement; 100 rows × 7 columns stays well under it.
      for (let i = 0; i < rows.length; i += 100) await trx.insertInto("run_events").values(rows.slice(i, i + 100)).execute();
    });
  }

  async listRunEvents(
    runId: string,
    filter: { type?: RunEventType; name?: string; afterId?: number; limit?: number } = {},
  ): Promise<RunEvent[]> {
    let q = this.db.selectFrom("run_events").selectAll().where("run_id", "=", runId).orderBy("id", "asc");
    if (filter.type) q = q.where("type", "=", filter.type);
    if (filter.name) q = q.where("name", "=", filter.name);
    if (filter.afterId !== undefined) q = q.where("id", ">", filter.afterId);
    if (filter.limit) q = q.limit(filter.limit);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: Number(r.id),
      runId: r.run_id,
      ts: r.ts,
      type: r.type as RunEventType,
      step: r.step,
      name: r.name,
      value: r.value,
      data: parseJson(r.data),
    }));
  }
}
