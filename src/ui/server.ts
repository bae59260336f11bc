import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { NotFoundError, UsageError, errorBody } from "../errors/index.js";
import { HttpApp, type Context } from "../http/index.js";
import type { Workspace } from "../registry/index.js";
import { TOKEN_COOKIE, assertAuthorized, generateToken, isLoopback } from "./auth.js";
import { STREAMED, type Route } from "./http.js";
import { allowedHostsFor, requestGuard } from "./request-guard.js";
import { costRoutes } from "./routes-cost.js";
import { datasetRoutes } from "./routes-datasets.js";
import { evalRoutes } from "./routes-evals.js";
import { gatewayRoutes } from "./routes-gateway.js";
import { runRoutes } from "./routes-runs.js";
import { serveStatic } from "./static-files.js";

export interface UiServerOptions {
  ws: Workspace;
  host?: string;
  port?: number;
  /** The built dashboard (index.html + assets/); API only when omitted. */
  assetsDir?: string;
  /** Required beyond loopback: given (config/env) or generated. Ignored (null) on loopback unless `requireToken`. */
  token?: string | null;
  requireToken?: boolean;
  /** Further Host names (or name:port) the dashboard answers to, e.g. behind a reverse proxy. */
  allowedHosts?: readonly string[];
}

export interface UiServer {
  server: Server;
  url: string;
  host: string;
  port: number;
  /** The access token, or null on loopback. Callers print it once; it is never logged. */
  token: string | null;
  close(): Promise<void>;
}

const ROUTES: readonly Route[] = [...datasetRoutes, ...runRoutes, ...evalRoutes, ...gatewayRoutes, ...costRoutes];

/** The dashboard server: JSON API under /api over the workspace's registry, and the built web app. */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const host = options.host ?? "127.0.0.1";
  const needsToken = options.requireToken === true || !isLoopback(host);
  const token = needsToken ? (options.token ?? generateToken()) : null;
  if (token !== null && token.length < 16) {
    throw new UsageError("UI_TOKEN_TOO_SHORT", "the dashboard token is shorter than 16 characters", { fix: "set a longer ui token (TUNEKIT_UI_TOKEN), or leave it unset to get a random one" });
  }
  // Per server start; the page reads it from GET /api/session and sends it with every state change.
  const sessionToken = randomBytes(24).toString("base64url");
  let allowedHosts: Set<string> | null = new Set(); // nothing is answered before listen() knows the port

  /** The built web app (client-side routes get index.html); opening the printed ?token= URL sets the cookie. */
  function serveDashboard(c: Context): void {
    if (!options.assetsDir) throw new NotFoundError("UI_NOT_FOUND", `no page ${c.path}: this server has no dashboard files`, { fix: "use the JSON API under /api" });
    if (token !== null) {
      // Opening the printed URL (?token=…) stores the token in an HttpOnly cookie for the page's API calls.
      const given = c.query.get("token");
      if (given !== null) {
        assertAuthorized(c.req, c.query, token);
        c.res.writeHead(302, { location: c.path, "set-cookie": `${TOKEN_COOKIE}=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=/` });
        c.res.end();
        return;
      }
    }
    serveStatic(c.res, options.assetsDir, c.path);
  }

  const app = new HttpApp({
    errorBody: (e) => errorBody(e),
    jsonHeaders: { "cache-control": "no-store" },
    limits: { maxBytes: 1 << 20, timeoutMs: 30_000, maxJsonDepth: 64 },
    fallback: (c) => {
      if (c.path.startsWith("/api/")) throw new NotFoundError("UI_NOT_FOUND", `no API endpoint ${c.method} ${c.path}`, { fix: "see docs/dashboard.md for the endpoints" });
      if (c.method !== "GET") throw new NotFoundError("UI_NOT_FOUND", `no page ${c.method} ${c.path}`, { fix: "open the dashboard at /" });
      serveDashboard(c);
    },
  });
  app.use(async (c, next) => {
    c.res.setHeader("x-frame-options", "DENY");
    await next();
  });
  app.use(requestGuard({ allowedHosts: () => allowedHosts, sessionToken }));
  app.use(async (c, next) => {
    if (c.path.startsWith("/api/")) assertAuthorized(c.req, c.query, token);
    await next();
  });
  app.get("/api/session", () => ({ sessionToken }));
  for (const route of ROUTES) {
    app.on(route.method, route.pattern, async (c) => {
      const body = c.method === "GET" ? undefined : (await c.body()).length === 0 ? {} : await c.json();
      const value = await route.handler({ params: c.params, query: c.query, body, ws: options.ws, signal: c.signal, res: c.res });
      return value === STREAMED ? undefined : value;
    });
  }
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer(app.listener);
  server.headersTimeout = 20_000;
  server.requestTimeout = 35_000;
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new UsageError("UI_PORT_IN_USE", `port ${options.port} on ${host} is in use`, { fix: "pass another --port, or --port 0 for any free one" }) : e),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  allowedHosts = allowedHostsFor(host, port, options.allowedHosts);
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    server,
    host,
    port,
    url: `http://${shownHost}:${port}/`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
