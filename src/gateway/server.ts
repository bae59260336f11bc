import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type Database from "better-sqlite3";
import type { GatewayRoute, GatewaySection } from "../config/sections/gateway.js";
import { DataError, NotFoundError } from "../errors/index.js";
import { requirePostgresUrl } from "./open-store.js";
import type { Logger } from "../log/index.js";
import { handleAdmin, handleFeedback } from "./admin-routes.js";
import { Authenticator, KeyStore } from "./auth.js";
import { ExperimentStore, type ExperimentState } from "./experiments.js";
import { parseJsonObject, readBody, sendError, sendJson, statusFor } from "./http-io.js";
import { LocalBackend } from "./local-backend.js";
import { LogPipeline } from "./log-pipeline.js";
import { GatewayMetrics } from "./metrics.js";
import { PostgresLogStore } from "./postgres-store.js";
import type { LogStore, RequestRecord } from "./records.js";
import { Router, validateGatewayConfig } from "./router.js";
import { resolveRouteModel } from "./local-route-model.js";
import { openGatewayDb, SqliteLogStore } from "./sqlite-store.js";
import { OpenAiUpstream, type Backend, type BackendResult, type StreamSink } from "./upstream.js";
import { toTunekitError } from "../errors/index.js";

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
}

/** The running gateway: `url`, the parts the admin API and the CLI share, and a graceful `close()`. */
export class Gateway {
  readonly metrics = new GatewayMetrics();
  private experimentStates = new Map<string, ExperimentState>();
  private statesLoadedAt = 0;
  private inFlight = 0;
  private idle: (() => void) | null = null;
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
  ) {}

  static async start(options: StartGatewayOptions): Promise<Gateway> {
    const config = options.config;
    validateGatewayConfig(config);
    const env = options.env ?? process.env;
    // Hub-named local models (org/name[@rev]) resolve, downloading if needed, before anything opens: a bad name leaves nothing running.
    const localRoutes = new Map<string, GatewayRoute>();
    for (const route of config.routes) if (route.backend === "local" && !options.backends?.has(route.name)) localRoutes.set(route.name, await resolveRouteModel(route, env));
    const db = openGatewayDb(join(options.stateDir, config.logging.path));
    const store =
      options.store ??
      (config.logging.backend === "postgres"
        ? await PostgresLogStore.open(requirePostgresUrl(config.logging.url))
        : new SqliteLogStore(db));
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
    const gateway = new Gateway(config, db, store, pipeline, new Router(config, backends), new ExperimentStore(db, config.experiments), keys, auth, backends, server, options.logger);
    server.on("request", (req, res) => void gateway.handle(req, res));
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight += 1;
    try {
      const q = req.url!.indexOf("?");
      const path = q < 0 ? req.url! : req.url!.slice(0, q);
      if (req.method === "POST" && path === "/v1/chat/completions") await this.chat(req, res);
      else if (req.method === "GET" && path === "/v1/models") {
        this.auth.check(req.headers.authorization, "serve");
        sendJson(res, 200, { object: "list", data: this.router.models().map((m) => ({ id: m.id, object: "model", created: 0, owned_by: m.kind === "experiment" ? "tunekit-experiment" : "tunekit" })) });
      } else if (req.method === "GET" && path === "/healthz") sendJson(res, 200, { ok: true });
      else if (req.method === "GET" && path === "/metrics") {
        this.auth.check(req.headers.authorization, "admin");
        const body = this.metrics.render({ logQueued: this.pipeline.stats.queued, logWritten: this.pipeline.stats.written });
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
        res.end(body);
      } else if (req.method === "POST" && path === "/v1/feedback") await handleFeedback(this, req, res);
      else if (path.startsWith("/v1/admin/")) await handleAdmin(this, req, res, path);
      else throw new NotFoundError("GATEWAY_ROUTE_NOT_FOUND", `no endpoint ${req.method} ${path}`, { fix: "use POST /v1/chat/completions, GET /v1/models, POST /v1/feedback, GET /metrics" });
    } catch (error) {
      if (!res.headersSent) sendError(res, error);
      else res.end();
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.idle?.();
    }
  }

  private async chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const ts = Date.now();
    const auth = this.auth.check(req.headers.authorization, "serve");
    const body = parseJsonObject(await readBody(req, this.config.maxBodyBytes));
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      throw new DataError("GATEWAY_BAD_MESSAGES", "messages must be a non-empty list", { fix: "send messages: [{role: 'user', content: '…'}]" });
    }
    const requestId = `req-${randomUUID()}`;
    const model = typeof body.model === "string" ? body.model : undefined;
    const user = typeof body.user === "string" ? body.user : (req.headers["x-tunekit-user"] as string | undefined);
    const session = req.headers["x-tunekit-session"] as string | undefined;
    const stream = body.stream === true;
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
      const outcome = await this.router.dispatch(resolution.variant, body, stream, sink, started);
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
      record.status = statusFor(error);
      record.errorCode = toTunekitError(error).code;
      record.latencyMs = performance.now() - started;
      this.metrics.observe(record);
      await this.pipeline.log(record).catch((e) => this.logger?.error({ err: (e as Error).message }, "request log append failed"));
      if (sink?.started) {
        res.write(`data: ${JSON.stringify({ error: { code: record.errorCode, message: toTunekitError(error).message } })}\n\n`);
        res.end();
      } else sendError(res, error, headers);
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
    if (pricing) record.costUsd = ((r.promptTokens ?? 0) * pricing.inputPerMTok + (r.completionTokens ?? 0) * pricing.outputPerMTok) / 1e6;
  }

  /** SIGTERM: stop accepting, let in-flight requests finish (up to graceMs), flush the log, close everything. */
  async close(graceMs = 10_000): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) await Promise.race([new Promise<void>((r) => (this.idle = r)), new Promise((r) => setTimeout(r, graceMs))]);
    this.server.closeAllConnections();
    await closed;
    await this.pipeline.close();
    for (const b of this.backends.values()) await b.close();
    await this.store.close();
    this.db.close();
  }
}
