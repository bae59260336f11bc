import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { NotFoundError, UsageError } from "../errors/index.js";
import type { Workspace } from "../registry/index.js";
import { TOKEN_COOKIE, assertAuthorized, generateToken, isLoopback } from "./auth.js";
import { ApiRouter, STREAMED, readJsonBody, sendError, sendJson } from "./http.js";
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

/** The dashboard server: JSON API under /api over the workspace's registry, and the built web app. */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const host = options.host ?? "127.0.0.1";
  const needsToken = options.requireToken === true || !isLoopback(host);
  const token = needsToken ? (options.token ?? generateToken()) : null;
  if (token !== null && token.length < 16) {
    throw new UsageError("UI_TOKEN_TOO_SHORT", "the dashboard token is shorter than 16 characters", { fix: "set a longer ui token (TUNEKIT_UI_TOKEN), or leave it unset to get a random one" });
  }
  const router = new ApiRouter().add([...datasetRoutes, ...runRoutes, ...evalRoutes, ...gatewayRoutes, ...costRoutes]);
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer((req, res) => void handle(req, res));
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    try {
      const url = new URL(req.url ?? "/", "http://dashboard");
      res.setHeader("x-frame-options", "DENY");
      if (url.pathname.startsWith("/api/")) {
        assertAuthorized(req, url, token);
        const found = router.match(req.method ?? "GET", url.pathname);
        if (!found) throw new NotFoundError("UI_NOT_FOUND", `no API endpoint ${req.method} ${url.pathname}`, { fix: "see docs/dashboard.md for the endpoints" });
        if ("allowed" in found) {
          throw new UsageError("UI_METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${url.pathname}`, { fix: `use ${found.allowed.join(" or ")}` });
        }
        const body = req.method === "POST" ? await readJsonBody(req) : undefined;
        const value = await found.route.handler({ params: found.params, query: url.searchParams, body, ws: options.ws, signal: abort.signal, res });
        if (value !== STREAMED) sendJson(res, 200, value);
        return;
      }
      if (!options.assetsDir) throw new NotFoundError("UI_NOT_FOUND", `no page ${url.pathname}: this server has no dashboard files`, { fix: "use the JSON API under /api" });
      if (token !== null) {
        // Opening the printed URL (?token=…) stores the token in an HttpOnly cookie for the page's API calls.
        const given = url.searchParams.get("token");
        if (given !== null) {
          assertAuthorized(req, url, token);
          res.writeHead(302, { location: url.pathname, "set-cookie": `${TOKEN_COOKIE}=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=/` });
          res.end();
          return;
        }
      }
      serveStatic(res, options.assetsDir, url.pathname);
    } catch (error) {
      sendError(res, error);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new UsageError("UI_PORT_IN_USE", `port ${options.port} on ${host} is in use`, { fix: "pass another --port, or --port 0 for any free one" }) : e),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
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
