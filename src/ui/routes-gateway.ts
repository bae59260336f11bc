import { UsageError } from "../errors/index.js";
import { analyzeExperiment, EXPERIMENT_ACTIONS, ExperimentStore, evaluateAlerts, summarize, openGatewayStores, type ExperimentAction, type GatewayStores } from "../gateway/index.js";
import type { Workspace } from "../registry/index.js";
import type { ExperimentActionResponse, ExperimentListResponse, MonitoringResponse } from "./api-types.js";
import { parseBody, type Route } from "./http.js";
import { z } from "zod";

/** Experiments and monitoring over the gateway's request log (.tunekit/gateway.db or PostgreSQL). */
const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "24h", "7d", "15m" → milliseconds. */
export function parseDuration(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)([mhd])$/.exec(text.trim());
  if (!m) throw new UsageError("UI_QUERY_INVALID", `${name}=${JSON.stringify(text)} is not a duration like 15m, 24h or 7d`, { fix: `pass ${name}=24h` });
  return Number(m[1]) * UNITS[m[2]];
}

async function withStores<T>(ws: Workspace, fn: (stores: GatewayStores) => Promise<T>): Promise<T> {
  const stores = await openGatewayStores(ws.config.gateway, ws.stateDir);
  try {
    return await fn(stores);
  } finally {
    await stores.close();
  }
}

const ActionBodySchema = z.strictObject({ variant: z.string().min(1).optional() });

export const gatewayRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/api/experiments",
    handler: async ({ ws, query }): Promise<ExperimentListResponse> =>
      withStores(ws, async (stores) => {
        const since = Date.now() - parseDuration(query.get("since") ?? "30d", "since");
        const store = new ExperimentStore(stores.db, ws.config.gateway.experiments);
        const feedback = await stores.store.listFeedback({ since });
        const experiments = await Promise.all(
          store.list().map(async (e) => {
            const requests = await stores.store.listRequests({ experiment: e.name, since });
            const order = e.variants.map((v) => v.route);
            return {
              ...e,
              requests: requests.length,
              analysis: analyzeExperiment(requests, feedback, { metric: query.get("metric") === "feedback" ? "feedback" : "success", order }),
              history: store.history(e.name),
            };
          }),
        );
        return { experiments };
      }),
  },
  {
    method: "POST",
    pattern: "/api/experiments/:name/:action",
    handler: async ({ ws, params, body }): Promise<ExperimentActionResponse> => {
      if (!(EXPERIMENT_ACTIONS as readonly string[]).includes(params.action)) {
        throw new UsageError("UI_EXPERIMENT_ACTION", `unknown experiment action ${JSON.stringify(params.action)}`, { fix: `use one of ${EXPERIMENT_ACTIONS.join(", ")}` });
      }
      const { variant } = parseBody(ActionBodySchema, body, "experiment action");
      return withStores(ws, async (stores) => ({
        experiment: new ExperimentStore(stores.db, ws.config.gateway.experiments).apply(params.name, params.action as ExperimentAction, { variant, actor: "dashboard" }),
      }));
    },
  },
  {
    method: "GET",
    pattern: "/api/monitoring",
    handler: async ({ ws, query }): Promise<MonitoringResponse> =>
      withStores(ws, async (stores) => {
        const now = Date.now();
        const since = now - parseDuration(query.get("since") ?? "24h", "since");
        const bucketMs = parseDuration(query.get("bucket") ?? "1h", "bucket");
        const requests = await stores.store.listRequests({ since });
        const feedback = await stores.store.listFeedback({ since });
        const windows = summarize(requests, feedback, { bucketMs });
        const overall = summarize(requests, feedback);
        // Alerts are evaluated for display only; sending them is `tunekit monitor --alerts`' job.
        const alerts = evaluateAlerts(ws.config.gateway.alerts.rules, requests, feedback, now);
        return { since, bucketMs, requests: requests.length, windows, overall, alerts };
      }),
  },
];
