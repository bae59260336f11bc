import { NotFoundError } from "../errors/index.js";
import { redactValue } from "../log/index.js";
import type { RegistryDb } from "./database.js";
import { newId, nowIso } from "./ids.js";
import { assertTransition, type RunKind, type RunStatus } from "./run-status.js";
import { parseJson, toJson } from "./json-columns.js";
import { writeTransaction } from "./database.js";
import { ownerState, parseOwner, type RunOwner } from "./run-owner.js";

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
  /** The process that owns the run while it is running (null for hosted jobs, which no local process owns). */
  owner: RunOwner | null;
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
  /** Only with `includeSuperseded`: the id of the resume status event that replaced this event. */
  supersededBy?: number;
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
    owner: parseOwner(parseJson(row.owner ?? null)) ?? legacyOwner(row),
  };
}

/** Runs started before migration 0002 kept their supervisor in result.supervisor (no start time). */
function legacyOwner(row: any): RunOwner | null {
  if (row.status !== "running") return null;
  return parseOwner((parseJson(row.result) as { supervisor?: unknown } | null)?.supervisor);
}

const OWNER_GONE_FIX: Record<string, string> = {
  train: "resume it with `tunekit runs resume RUN` (it continues from its newest checkpoint)",
  migration: "run the same `tunekit migrate` command again: finished steps are skipped and an interrupted training run is resumed",
  serve: "start the gateway again with `tunekit serve`; requests it acknowledged are replayed from its log",
};

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
      owner: null,
    };
    await this.db.insertInto("runs").values(row).execute();
    return toRun(row);
  }

  async getRun(id: string): Promise<Run> {
    const row = await this.db.selectFrom("runs").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) {
      throw new NotFoundError("RUN_NOT_FOUND", `no run with id "${id}"`, { fix: "list runs with `tunekit runs list`" });
    }
    return this.reconcileOwner(toRun(row));
  }

  async listRuns(filter: RunFilter = {}): Promise<Run[]> {
    let q = this.db.selectFrom("runs").selectAll().orderBy("created_at", "desc").orderBy("id", "desc");
    if (filter.kind) q = q.where("kind", "=", filter.kind);
    if (filter.status) q = q.where("status", "=", filter.status);
    if (filter.limit) q = q.limit(filter.limit);
    const runs = await Promise.all((await q.execute()).map((row) => this.reconcileOwner(toRun(row))));
    // A run just found dead no longer matches a `running` filter.
    return filter.status ? runs.filter((r) => r.status === filter.status) : runs;
  }

  /**
   * A `running` run whose owner process is provably dead (SIGKILL, OOM killer, reboot) becomes `interrupted`,
   * recorded as a status event: the verdict is made once, in a write transaction that re-checks the row, so
   * every later reader sees the same history instead of recomputing it.
   */
  private async reconcileOwner(run: Run): Promise<Run> {
    if (run.status !== "running" || !run.owner || ownerState(run.owner) !== "dead") return run;
    const owner = run.owner;
    const changed = await writeTransaction(this.db, async (trx) => {
      const row = await trx.selectFrom("runs").selectAll().where("id", "=", run.id).executeTakeFirst();
      const now = row ? toRun(row) : null;
      if (!now || now.status !== "running" || JSON.stringify(now.owner) !== JSON.stringify(owner)) return false;
      const ts = nowIso();
      const error = {
        code: "RUN_OWNER_GONE",
        message: `the process that ran it (pid ${owner.pid} on ${owner.host}) ended without recording an outcome (killed?)`,
        fix: OWNER_GONE_FIX[run.kind] ?? "start it again",
      };
      await trx.updateTable("runs").set({ status: "interrupted", updated_at: ts, ended_at: ts, error: toJson(error) }).where("id", "=", run.id).execute();
      await trx
        .insertInto("run_events")
        .values({ run_id: run.id, ts, type: "status", step: null, name: "interrupted", value: null, data: toJson({ from: "running", reason: "owner-gone", owner }) })
        .execute();
      return true;
    });
    if (!changed) {
      const row = await this.db.selectFrom("runs").selectAll().where("id", "=", run.id).executeTakeFirst();
      return row ? toRun(row) : run;
    }
    const row = await this.db.selectFrom("runs").selectAll().where("id", "=", run.id).executeTakeFirstOrThrow();
    return toRun(row);
  }

  /** Moves a run through the state machine atomically and records a `status` event. */
  async transitionRun(
    id: string,
    to: RunStatus,
    extra: { result?: Record<string, unknown>; error?: Run["error"]; costUsd?: number; owner?: RunOwner | null; event?: Record<string, unknown> } = {},
  ): Promise<Run> {
    await this.transitionIn(id, to, extra);
    return this.getRun(id);
  }

  /**
   * Continues a run (→ running, owned by `owner`) from the checkpoint at `fromStep`, and in the same transaction
   * marks the step-bearing events (progress, metrics, checkpoints) of steps after it as superseded by this
   * resume: the killed attempt's steps are trained again, and each step must appear once in curves.
   */
  async resumeRunFrom(id: string, fromStep: number, owner: RunOwner): Promise<{ run: Run; superseded: number }> {
    const superseded = await this.transitionIn(id, "running", { owner, event: { resumedFromStep: fromStep } }, async (trx, statusEventId) => {
      const res = await trx
        .updateTable("run_events")
        .set({ superseded_by: statusEventId })
        .where("run_id", "=", id)
        .where("superseded_by", "is", null)
        .where("type", "in", ["progress", "metric", "checkpoint"])
        .where("step", ">", fromStep)
        .executeTakeFirst();
      return Number(res.numUpdatedRows);
    });
    return { run: await this.getRun(id), superseded: superseded ?? 0 };
  }

  private async transitionIn<T>(
    id: string,
    to: RunStatus,
    extra: { result?: Record<string, unknown>; error?: Run["error"]; costUsd?: number; owner?: RunOwner | null; event?: Record<string, unknown> },
    also?: (trx: RegistryDb, statusEventId: number) => Promise<T>,
  ): Promise<T | undefined> {
    return writeTransaction(this.db, async (trx) => {
      const row = await trx.selectFrom("runs").select(["status", "started_at"]).where("id", "=", id).executeTakeFirst();
      if (!row) throw new NotFoundError("RUN_NOT_FOUND", `no run with id "${id}"`, { fix: "list runs with `tunekit runs list`" });
      assertTransition(id, row.status as RunStatus, to);
      const now = nowIso();
      const terminal = to === "succeeded" || to === "failed" || to === "cancelled" || to === "interrupted" || to === "paused";
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
          // Entering `running` names its owner (none: nobody local to watch, e.g. a hosted job).
          ...(to === "running" ? { owner: extra.owner ? toJson(extra.owner) : null } : {}),
        })
        .where("id", "=", id)
        .execute();
      const event = await trx
        .insertInto("run_events")
        .values({ run_id: id, ts: now, type: "status", step: null, name: to, value: null, data: toJson({ from: row.status, ...extra.event }) })
        .returning("id")
        .executeTakeFirstOrThrow();
      return also ? await also(trx, Number(event.id)) : undefined;
    });
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
    filter: { type?: RunEventType; name?: string; afterId?: number; limit?: number; includeSuperseded?: boolean } = {},
  ): Promise<RunEvent[]> {
    let q = this.db.selectFrom("run_events").selectAll().where("run_id", "=", runId).orderBy("id", "asc");
    if (!filter.includeSuperseded) q = q.where("superseded_by", "is", null);
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
      ...(r.superseded_by !== null ? { supersededBy: Number(r.superseded_by) } : {}),
    }));
  }
}
