import type { GatewayRoute } from "../config/index.js";
import { resolveHubModel } from "../hub/index.js";

/**
 * A local route's modelDir may be a Hub name (org/name[@rev]): it is resolved to its HF cache snapshot
 * (downloaded once) before the gateway listens, so the first request never waits on a download.
 */
export async function resolveRouteModel(route: GatewayRoute, env: NodeJS.ProcessEnv = process.env): Promise<GatewayRoute> {
  if (route.backend !== "local" || !route.modelDir) return route;
  const hub = await resolveHubModel(route.modelDir, { env });
  return hub ? { ...route, modelDir: hub.dir } : route;
}
