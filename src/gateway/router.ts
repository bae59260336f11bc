import type { GatewayExperiment, GatewaySection } from "../config/index.js";
import { ConfigError, ConflictError, NotFoundError, ProviderError, TunekitError, UsageError } from "../errors/index.js";
import { routeFor, type ExperimentState } from "./experiments.js";
import { withRetry } from "../runtime/index.js";
import { AttemptError, type Backend, type BackendResult, type StreamSink } from "./upstream.js";

/** Every cross-reference problem of gateway: at once (unknown routes, missing URLs, fallback cycles). */
export function validateGatewayConfig(config: GatewaySection): void {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const [i, r] of config.routes.entries()) {
    if (names.has(r.name)) problems.push(`gateway.routes[${i}].name: "${r.name}" is used twice — give each route its own name`);
    names.add(r.name);
    if (r.backend === "openai" && !r.baseUrl) problems.push(`gateway.routes[${i}].baseUrl: missing for backend openai — set the upstream URL, e.g. http://127.0.0.1:8000/v1`);
    if (r.backend === "local" && !r.modelDir) problems.push(`gateway.routes[${i}].modelDir: missing for backend local — set the model folder`);
  }
  for (const [i, r] of config.routes.entries()) {
    if (r.fallback && !names.has(r.fallback)) problems.push(`gateway.routes[${i}].fallback: "${r.fallback}" is not a route — use one of ${[...names].join(", ")}`);
    const seen = new Set<string>([r.name]);
    let next = r.fallback;
    while (next && names.has(next)) {
      if (seen.has(next)) {
        problems.push(`gateway.routes[${i}].fallback: the fallback chain from "${r.name}" loops back to "${next}" — end the chain`);
        break;
      }
      seen.add(next);
      next = config.routes.find((x) => x.name === next)?.fallback;
    }
  }
  const experimentNames = new Set<string>();
  for (const [i, e] of config.experiments.entries()) {
    if (experimentNames.has(e.name)) problems.push(`gateway.experiments[${i}].name: "${e.name}" is used twice`);
    experimentNames.add(e.name);
    if (names.has(e.model)) problems.push(`gateway.experiments[${i}].model: "${e.model}" is also a route name — give the experiment its own public model id`);
    for (const [j, v] of e.variants.entries()) {
      if (!names.has(v.route)) problems.push(`gateway.experiments[${i}].variants[${j}].route: "${v.route}" is not a route — use one of ${[...names].join(", ") || "(none defined)"}`);
    }
    if (e.variants.every((v) => v.weight === 0)) problems.push(`gateway.experiments[${i}].variants: all weights are 0 — give at least one variant traffic`);
  }
  const models = new Set([...names, ...config.experiments.map((e) => e.model)]);
  if (config.defaultModel && !models.has(config.defaultModel)) problems.push(`gateway.defaultModel: "${config.defaultModel}" is neither a route nor an experiment model`);
  if (problems.length > 0) {
    throw new ConfigError("GATEWAY_CONFIG_INVALID", `gateway configuration has ${problems.length} problem(s):\n  ${problems.join("\n  ")}`, {
      fix: "edit the gateway: section of tunekit.yaml",
      details: { problems },
    });
  }
}

export interface Resolution {
  variant: string;
  experiment: string | null;
}

export interface DispatchOutcome {
  result: BackendResult;
  attempts: number;
  /** The route that answered (differs from the variant after a fallback). */
  served: string;
}

export class Router {
  private readonly byModel: Map<string, GatewayExperiment>;

  constructor(private readonly config: GatewaySection, private readonly backends: ReadonlyMap<string, Backend>) {
    this.byModel = new Map(config.experiments.map((e) => [e.model, e]));
  }

  models(): { id: string; kind: "route" | "experiment" }[] {
    // Routes added while serving (a fine-tuning job's `ft:` model) are backends without a config entry.
    const configured = new Set(this.config.routes.map((r) => r.name));
    const added = [...this.backends.keys()].filter((name) => !configured.has(name)).map((id) => ({ id, kind: "route" as const }));
    return [...this.config.routes.map((r) => ({ id: r.name, kind: "route" as const })), ...added, ...this.config.experiments.map((e) => ({ id: e.model, kind: "experiment" as const }))];
  }

  resolve(model: string | undefined, keys: { user?: string; session?: string; requestId: string }, states: ReadonlyMap<string, ExperimentState>): Resolution {
    const name = model ?? this.config.defaultModel;
    if (!name) throw new UsageError("GATEWAY_MODEL_MISSING", "the request names no model", { fix: "set `model` in the request, or gateway.defaultModel in tunekit.yaml" });
    const experiment = this.byModel.get(name);
    if (experiment) {
      const key = (experiment.stickyBy === "session" ? keys.session : keys.user) ?? keys.requestId;
      return { variant: routeFor(experiment, states.get(experiment.name), key), experiment: experiment.name };
    }
    if (this.backends.has(name)) return { variant: name, experiment: null };
    throw new NotFoundError("GATEWAY_MODEL_NOT_FOUND", `model ${JSON.stringify(name)} is not served here`, {
      fix: `use one of ${this.models().map((m) => m.id).join(", ") || "(none: add gateway.routes to tunekit.yaml)"}; GET /v1/models lists them`,
    });
  }

  /**
   * Tries the route (with retries: the one policy of src/runtime/retry.ts, jittered backoff and the upstream's
   * Retry-After), then its fallback chain; nothing is retried once bytes reached the client. `signal` (the
   * client went away) stops waiting and retrying.
   */
  async dispatch(routeName: string, body: Record<string, unknown>, stream: boolean, sink: StreamSink | null, started: number, signal?: AbortSignal): Promise<DispatchOutcome> {
    let attempts = 0;
    let last: unknown;
    let name: string | undefined = routeName;
    while (name) {
      const backend: Backend = this.backends.get(name)!;
      const route = backend.route;
      // A live request waits at most one attempt's timeout between attempts, whatever Retry-After asks for.
      const policy = { maxAttempts: route.retries + 1, baseDelayMs: route.retryBackoffMs, maxDelayMs: route.timeoutMs };
      try {
        const result = await withRetry(async () => {
          // The client is gone: no retry and no fallback may start on its behalf.
          if (signal?.aborted) throw clientCancelled();
          attempts += 1;
          return backend.chat(body, stream, sink, started, signal);
        }, {
          policy,
          signal,
          classify: (error) => ({ retry: !sink?.started && error instanceof AttemptError && error.retryable, retryAfterMs: error instanceof AttemptError ? error.retryAfterMs : undefined }),
        });
        return { result, attempts, served: name };
      } catch (error) {
        last = error;
        if (signal?.aborted) throw clientCancelled();
        if (sink?.started) throw toGatewayError(error, name, attempts);
      }
      // A client error (400 from the upstream, bad messages) is the client's; a fallback would fail the same way.
      if (last instanceof AttemptError && !last.retryable) break;
      if (last instanceof TunekitError && !(last instanceof ProviderError)) break;
      name = route.fallback;
    }
    throw toGatewayError(last, routeName, attempts);
  }
}

/** The upstream's own 4xx passes through unchanged; everything else becomes a 502 through the boundary. */
export class UpstreamRejection extends Error {
  constructor(readonly status: number, readonly body: Buffer) {
    super(`upstream rejected the request with HTTP ${status}`);
  }
}

function toGatewayError(error: unknown, route: string, attempts: number): Error {
  if (error instanceof AttemptError) {
    if (!error.retryable && error.status !== null && error.status >= 400 && error.status < 500 && error.body) return new UpstreamRejection(error.status, error.body);
    return new ProviderError(error.code, `${error.message} (after ${attempts} attempt${attempts === 1 ? "" : "s"} on route ${route} and its fallbacks)`, {
      fix: "check that the upstream is up and the route's baseUrl; raise the route's timeoutMs or retries, or add a fallback route",
      details: { attempts, upstreamStatus: error.status },
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}

function clientCancelled(): ConflictError {
  return new ConflictError("GATEWAY_CLIENT_CANCELLED", "the client closed the connection before the response was complete; the upstream request was aborted", {
    fix: "nothing to fix on the gateway: keep the connection open until the response ends, or raise the client's timeout",
  });
}
