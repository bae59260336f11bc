import { z } from "zod";
import { parse as parseYaml } from "yaml";
import { UsageError } from "../errors/index.js";
import { RUN_KINDS, RUN_STATUSES, isTerminal, type RunEvent, type RunEventType, type RunKind, type RunStatus, type Workspace } from "../registry/index.js";
import type { CancelResponse, CompareResponse, LaunchResponse, RunDetailResponse, RunEventsResponse, RunListResponse, RunStreamHeartbeat } from "./api-types.js";
import { STREAMED, intParam, parseBody, type Route } from "./http.js";
import { compareRuns } from "./run-compare.js";
import { cancelRunNow, resumeRunInBackground, startRunFromSpec } from "./run-control.js";

/** Runs: list, detail, events (afterId polling or SSE), compare, start / cancel / resume. */
const EVENT_TYPES = ["metric", "log", "progress", "checkpoint", "status"] as const;

function oneOf<T extends string>(value: string | null, allowed: readonly T[], name: string): T | undefined {
  if (value === null || value === "") return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError("UI_QUERY_INVALID", `${name}=${JSON.stringify(value)} is not one of ${allowed.join("|")}`, { fix: `pass ${name}=${allowed[0]} or leave it out` });
  }
  return value as T;
}

function eventFilter(query: URLSearchParams) {
  return {
    type: oneOf<RunEventType>(query.get("type"), EVENT_TYPES, "type"),
    name: query.get("name") || undefined,
    afterId: intParam(query, "afterId", 0, 0, Number.MAX_SAFE_INTEGER),
  };
}

async function runDetail(ws: Workspace, id: string): Promise<RunDetailResponse> {
  const run = await ws.registry.getRun(id);
  const checkpoints = await ws.registry.listRunEvents(id, { type: "checkpoint" });
  const logs = await ws.registry.listRunEvents(id, { type: "log" });
  const statuses = await ws.registry.listRunEvents(id, { type: "status" });
  const models = (await ws.registry.listModels()).filter((m) => m.runId === id);
  const version = run.datasetVersionId ? await ws.registry.getDatasetVersion(run.datasetVersionId).catch(() => null) : null;
  const children = (await ws.registry.listRuns({})).filter((r) => r.parentRunId === id).map((r) => ({ id: r.id, kind: r.kind, status: r.status, name: r.name }));
  return {
    run,
    dataset: version ? { id: version.id, ref: `${version.datasetName}@${version.number}`, records: version.recordCount } : null,
    checkpoints,
    logs: logs.slice(-500),
    statuses,
    models,
    children,
  };
}

const StartBodySchema = z.strictObject({
  /** The train spec as YAML text (what train.yaml holds) or as an object. */
  spec: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
});

export const runRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/api/runs",
    handler: async ({ ws, query }): Promise<RunListResponse> => ({
      runs: await ws.registry.listRuns({
        kind: oneOf<RunKind>(query.get("kind"), RUN_KINDS, "kind"),
        status: oneOf<RunStatus>(query.get("status"), RUN_STATUSES, "status"),
        limit: intParam(query, "limit", 200, 1, 5000),
      }),
    }),
  },
  { method: "GET", pattern: "/api/runs/:id", handler: async ({ ws, params }) => runDetail(ws, params.id) },
  {
    method: "GET",
    pattern: "/api/runs/:id/events",
    handler: async ({ ws, params, query }): Promise<RunEventsResponse> => {
      const run = await ws.registry.getRun(params.id);
      const filter = eventFilter(query);
      const events = await ws.registry.listRunEvents(params.id, { ...filter, limit: intParam(query, "limit", 5000, 1, 50_000) });
      return { runId: run.id, status: run.status, events, lastId: events.length ? events[events.length - 1].id : filter.afterId };
    },
  },
  {
    method: "GET",
    pattern: "/api/runs/:id/stream",
    handler: async ({ ws, params, query, res, signal }) => {
      await ws.registry.getRun(params.id);
      const filter = eventFilter(query);
      const interval = intParam(query, "intervalMs", 500, 100, 10_000);
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive" });
      res.write("retry: 2000\n\n");
      let afterId = filter.afterId;
      while (!signal.aborted) {
        const events: RunEvent[] = await ws.registry.listRunEvents(params.id, { ...filter, afterId, limit: 5000 });
        if (events.length) {
          afterId = events[events.length - 1].id;
          res.write(`id: ${afterId}\nevent: events\ndata: ${JSON.stringify(events)}\n\n`);
        } else {
          const run = await ws.registry.getRun(params.id);
          const heartbeat: RunStreamHeartbeat = { status: run.status, terminal: isTerminal(run.status) };
          res.write(`event: heartbeat\ndata: ${JSON.stringify(heartbeat)}\n\n`);
        }
        await new Promise((r) => setTimeout(r, interval));
      }
      res.end();
      return STREAMED;
    },
  },
  {
    method: "GET",
    pattern: "/api/compare",
    handler: async ({ ws, query }): Promise<CompareResponse> => {
      const [a, b] = [query.get("a"), query.get("b")];
      if (!a || !b) throw new UsageError("UI_QUERY_INVALID", "compare needs two runs: a=RUN&b=RUN", { fix: "pass ?a=run_…&b=run_…" });
      return compareRuns(ws, a, b);
    },
  },
  {
    method: "POST",
    pattern: "/api/runs",
    handler: async ({ ws, body }): Promise<LaunchResponse> => {
      const { spec } = parseBody(StartBodySchema, body, "start request");
      let raw: unknown = spec;
      if (typeof spec === "string") {
        try {
          raw = parseYaml(spec);
        } catch (e) {
          throw new UsageError("UI_SPEC_INVALID_YAML", `the train spec is not valid YAML: ${(e as Error).message}`, { fix: "paste the contents of a train.yaml" });
        }
      }
      if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new UsageError("UI_SPEC_INVALID_YAML", "the train spec must be a YAML mapping", { fix: "paste the contents of a train.yaml" });
      return startRunFromSpec(ws, raw as Record<string, unknown>);
    },
  },
  { method: "POST", pattern: "/api/runs/:id/cancel", handler: async ({ ws, params }): Promise<CancelResponse> => cancelRunNow(ws, params.id) },
  { method: "POST", pattern: "/api/runs/:id/resume", handler: async ({ ws, params }): Promise<LaunchResponse> => resumeRunInBackground(ws, params.id) },
];
