import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type Database from "better-sqlite3";
import type { GatewayRoute, GatewaySection } from "../config/index.js";
import { NotFoundError, UsageError, httpStatusFor, toTunekitError } from "../errors/index.js";
import { HttpApp, isLoopbackHost, type Context } from "../http/index.js";
import { openLogStore } from "./open-store.js";
import type { Logger } from "../log/index.js";
import { addAdminRoutes, handleFeedback } from "./admin-routes.js";
import { validateChatRequest } from "./chat-request.js";
import { Authenticator, KeyStore } from "./auth.js";
import { ExperimentStore, type ExperimentState } from "./experiments.js";
import { LocalBackend } from "./local-backend.js";
import { LogPipeline } from "./log-pipeline.js";
import { GatewayMetrics } from "./metrics.js";
import type { LogStore, RequestRecord } from "./records.js";
import { openAiErrorBody } from "./openai-error.js";
import { Router, UpstreamRejection, validateGatewayConfig } from "./router.js";
import { openGatewayDb } from "./sqlite-store.js";
import { resolveRouteModel } from "./local-route-model.js";
import { OpenAiUpstream, type Backend, type BackendResult, type StreamSink } from "./upstream.js";
import { requestCostUsd } from "../cost/index.js";
import type { Workspace } from "../registry/index.js";
import { FineTuningService, validateFineTuningConfig } from "./fine-tuning/service.js";

/** nginx's "client closed request": the status a cancelled request is logged with (never sent). */
export const CLIENT_CLOSED_REQUEST = 499;

/** An upstream's own rejection keeps its status; every other status comes from the error boundary. */
function statusFor(error: unknown): number {
  return error instanceof UpstreamRejection ? error.status : httpStatusFor(error);
}

export interface StartGatewayOptions {
  config: GatewaySection;
  /** .tunekit/ of the workspace: gateway.db and gateway-wal/ live there. */
  stateDir: string;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Python for local routes (worker.python / TUNEKIT_PYTHON). */
  python?: string;
  device?: string;
  /** Replace a route's backend (tests). */
  backends?: Map<string, Backend>;
  /** Replace the log store (tests). */
  store?: LogStore;
  /** Listen beyond loopback with gateway.auth.required off (`tunekit serve --allow-unauthenticated`). */
  allowUnauthenticated?: boolean;
  /** The workspace: with it (and gateway.fineTuning.enabled) the fine-tuning API is served and its jobs train here. */
  workspace?: Workspace;
}

/**
 * Off loopback with auth off, anyone who can reach the port can use the upstream keys and read stored prompts
 * through the admin API: refused unless the caller said so explicitly.
 */
export function assertExposureAllowed(config: GatewaySection, allowUnauthenticated = false): void {
  if (config.auth.required || allowUnauthenticated || isLoopbackHost(config.host)) return;
  throw new UsageError("GATEWAY_UNAUTHENTICATED_EXPOSURE", `refusing to listen on ${config.host} (beyond loopback) with gateway.auth.required: false`, {
    fix: "turn auth on (gateway.auth.required: true, then `tunekit serve keys create`), listen on 127.0.0.1, or pass --allow-unauthenticated if the network in front of it does the access control",
  });
}

/** The running gateway: `url`, the parts the admin API and the CLI share, and a graceful `close()`. */
export class Gateway {
  readonly metrics = new GatewayMetrics();
  private experimentStates = new Map<string, ExperimentState>();
  private statesLoadedAt = 0;
  private inFlight = 0;
  private fineTuning: FineTuningService | null = null;
  private idle: (() => void) | null = null;
  readonly app: HttpApp;
  url = "";

  private constructor(
    readonly config: GatewaySection,
    readonly db: Database.Database,
    readonly store: LogStore,
    readonly pipeline: LogPipeline,
    readonly router: Router,
    readonly experiments: ExperimentStore,
    readonly keys: KeyStore,
    readonly auth: Authenticator,
    private readonly backends: Map<string, Backend>,
    private readonly server: http.Server,
    readonly logger?: Logger,
  ) {
    this.app = new HttpApp({
      errorBody: openAiErrorBody,
      statusFor: (e) => (e instanceof UpstreamRejection ? e.status : undefined),
      limits: { maxBytes: config.maxBodyBytes, timeoutMs: config.bodyTimeoutMs, maxJsonDepth: config.maxJsonDepth },
      fallback: (c) => {
        throw new NotFoundError("GATEWAY_ROUTE_NOT_FOUND", `no endpoint ${c.method} ${c.path}`, {
          fix: c.path.startsWith("/v1/admin/")
            ? "use GET /v1/admin/experiments, POST /v1/admin/experiments/NAME/start|stop|promote|rollback, GET /v1/admin/requests/ID"
            : "use POST /v1/chat/completions, GET /v1/models, POST /v1/feedback, GET /metrics, /v1/files, /v1/fine_tuning/jobs",
        });
      },
      onInternalError: (error, c) => logger?.error({ err: toTunekitError(error).message, path: c.path }, "request failed"),
    });
    this.routes(this.app);
  }

  static async start(options: StartGatewayOptions): Promise<Gateway> {
    const config = options.config;
    validateGatewayConfig(config);
    if (options.workspace && config.fineTuning.enabled) validateFineTuningConfig(config.fineTuning);
    assertExposureAllowed(config, options.allowUnauthenticated);
    const env = options.env ?? process.env;
    // Hub-named local models (org/name[@rev]) resolve, downloading if needed, before anything opens: a bad name leaves nothing running.
    const localRoutes = new Map<string, GatewayRoute>();
    for (const route of config.routes) if (route.backend === "local" && !options.backends?.has(route.name)) localRoutes.set(route.name, await resolveRouteModel(route, env));
    const db = await openGatewayDb(join(options.stateDir, config.logging.path));
    const store = options.store ?? (await openLogStore(config, db));
    const pipeline = await LogPipeline.start({
      store,
      walDir: join(options.stateDir, "gateway-wal"),
      durability: config.logging.durability,
      batchSize: config.logging.batchSize,
      flushMs: config.logging.flushMs,
      redactPii: config.logging.redactPii,
      retention: { days: config.logging.retentionDays, maxRecords: config.logging.maxRecords },
      logger: options.logger,
    });
    const backends = new Map<string, Backend>();
    for (const route of config.routes) {
      backends.set(
        route.name,
        options.backends?.get(route.name) ??
          (route.backend === "local" ? new LocalBackend(localRoutes.get(route.name) ?? route, { python: options.python ?? "python3", device: options.device }) : new OpenAiUpstream(route, env)),
      );
    }
    const keys = new KeyStore(db);
    const auth = new Authenticator(keys, config.auth);
    const server = http.createServer();
    server.keepAliveTimeout = 65_000;
    // Backstops behind the body reader's own deadline: headers must arrive within 20 s, a whole request
    // within the body timeout plus 5 s (node checks these every few seconds, so they are coarse).
    server.requestTimeout = config.bodyTimeoutMs + 5_000;
    server.headersTimeout = Math.min(20_000, server.requestTimeout);
    const gateway = new Gateway(config, db, store, pipeline, new Router(config, backends), new ExperimentStore(db, config.experiments), keys, auth, backends, server, options.logger);
    if (options.workspace && config.fineTuning.enabled) {
      const python = options.python ?? "python3";
      const fineTuning = new FineTuningService({
        ws: options.workspace,
        config: config.fineTuning,
        auth,
        addModel: (route) => {
          if (!backends.has(route.name)) backends.set(route.name, new LocalBackend(route, { python, device: options.device }));
        },
        logger: options.logger,
      });
      fineTuning.routes(gateway.app);
      await fineTuning.start();
      gateway.fineTuning = fineTuning;
    }
    server.on("request", gateway.app.listener);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    gateway.url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
    return gateway;
  }

  /** Experiment state, re-read from gateway.db at most once a second (the CLI may change it). */
  states(): ReadonlyMap<string, ExperimentState> {
    const now = Date.now();
    if (now - this.statesLoadedAt > 1000) {
      this.experimentStates = this.experiments.states();
      this.statesLoadedAt = now;
    }
    return this.experimentStates;
  }

  refreshStates(): void {
    this.statesLoadedAt = 0;
  }

  /** The endpoints, on the shared HTTP core with OpenAI's error shape. */
  private routes(app: HttpApp): void {
    app.use(async (_c, next) => {
      this.inFlight += 1;
      try {
        await next();
      } finally {
        this.inFlight -= 1;
        if (this.inFlight === 0) this.idle?.();
      }
    });
    app.post("/v1/chat/completions", (c) => this.chat(c));
    app.get("/v1/models", (c) => {
      this.auth.check(c.header("authorization"), "serve");
      return { object: "list", data: this.router.models().map((m) => ({ id: m.id, object: "model", created: 0, owned_by: m.kind === "experiment" ? "tunekit-experiment" : "tunekit" })) };
    });
    app.get("/healthz", () => ({ ok: true }));
    app.get("/metrics", (c) => {
      this.auth.check(c.header("authorization"), "admin");
      const body = this.metrics.render({ logQueued: this.pipeline.stats.queued, logWritten: this.pipeline.stats.written });
      c.res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      c.res.end(body);
    });
    app.post("/v1/feedback", (c) => handleFeedback(this, c));
    addAdminRoutes(app, this);
  }

  private async chat(c: Context): Promise<void> {
    const started = performance.now();
    const ts = Date.now();
    const { res } = c;
    const auth = this.auth.check(c.header("authorization"), "serve");
    // Forwarded as received (unknown fields included); the validated copy is only read.
    const body = await c.jsonObject();
    const request = validateChatRequest(body);
    const requestId = `req-${randomUUID()}`;
    const model = request.model;
    const user = request.user ?? c.header("x-tunekit-user");
    const session = c.header("x-tunekit-session");
    const stream = request.stream === true;
    const record: RequestRecord = {
      id: requestId, ts, model: model ?? this.config.defaultModel ?? "", variant: null, experiment: null, backend: null, status: 200, errorCode: null,
      stream, latencyMs: 0, ttftMs: null, attempts: 0, promptTokens: null, completionTokens: null, costUsd: null, keyId: auth.keyId,
      userKey: user ?? session ?? null, input: this.config.logging.storeContent ? JSON.stringify(body.messages) : null, output: null, finishReason: null,
    };
    const headers: Record<string, string> = { "x-tunekit-request-id": requestId };
    this.metrics.begin();
    let sink: (StreamSink & { started: boolean }) | null = null;
    try {
      const resolution = this.router.resolve(model, { user, session, requestId }, this.states());
      record.variant = resolution.variant;
      record.experiment = resolution.experiment;
      headers["x-tunekit-variant"] = resolution.variant;
      if (stream) {
        sink = {
          started: false,
          begin(status, contentType) {
            this.started = true;
            res.writeHead(status, { ...headers, "content-type": contentType, "cache-control": "no-cache", connection: "keep-alive" });
            res.flushHeaders();
          },
          write: (chunk) => void res.write(chunk),
        };
      }
      const outcome = await this.router.dispatch(resolution.variant, body, stream, sink, started, c.signal);
      this.fill(record, outcome.result, outcome.attempts, outcome.served);
      record.latencyMs = performance.now() - started;
      this.metrics.observe(record);
      await this.pipeline.log(record); // acknowledged only once it is in the write-ahead log
      if (stream) res.end();
      else {
        const b = outcome.result.body!;
        res.writeHead(200, { ...headers, "content-type": outcome.result.contentType ?? "application/json", "content-length": b.length });
        res.end(b);
      }
    } catch (error) {
      // The client went away (mid-stream or while waiting): the upstream was aborted through c.signal; the
      // record says cancelled (499, nginx's "client closed request"), not a success nor a server error.
      const cancelled = c.signal.aborted;
      record.status = cancelled ? CLIENT_CLOSED_REQUEST : statusFor(error);
      record.errorCode = cancelled ? "GATEWAY_CLIENT_CANCELLED" : toTunekitError(error).code;
      record.latencyMs = performance.now() - started;
      this.metrics.observe(record);
      await this.pipeline.log(record).catch((e) => this.logger?.error({ err: (e as Error).message }, "request log append failed"));
      if (cancelled) res.destroy();
      else if (sink?.started) {
        res.write(`data: ${JSON.stringify(openAiErrorBody(toTunekitError(error)))}\n\n`);
        res.end();
      } else if (error instanceof UpstreamRejection) {
        res.writeHead(error.status, { ...headers, "content-type": "application/json", "content-length": error.body.length });
        res.end(error.body);
      } else this.app.sendError(c, error, headers);
    }
  }

  private fill(record: RequestRecord, r: BackendResult, attempts: number, served: string): void {
    record.backend = served;
    record.attempts = attempts;
    record.ttftMs = r.ttftMs;
    record.promptTokens = r.promptTokens;
    record.completionTokens = r.completionTokens;
    record.output = this.config.logging.storeContent ? r.output : null;
    record.finishReason = r.finishReason;
    const pricing = this.backends.get(served)?.route.pricing;
    if (pricing) record.costUsd = requestCostUsd(pricing, r.promptTokens ?? 0, r.completionTokens ?? 0);
  }

  /** SIGTERM: stop accepting, let in-flight requests finish (up to graceMs), flush the log, close everything. */
  async close(graceMs = 10_000): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) await Promise.race([new Promise<void>((r) => (this.idle = r)), new Promise((r) => setTimeout(r, graceMs))]);
    this.server.closeAllConnections();
    await closed;
    await this.fineTuning?.close();
    await this.pipeline.close();
    for (const b of this.backends.values()) await b.close();
    await this.store.close();
    this.db.close();
  }
}
