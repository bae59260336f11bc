import { ForbiddenError, UsageError } from "../errors/index.js";
import { isLoopbackHost, type Context, type Middleware } from "../http/index.js";
import { tokensEqual } from "./auth.js";

/**
 * The dashboard's defences against other web pages (docs: SECURITY.md):
 * - Host must name this server (loopback names with the bound port, or a configured host): a DNS-rebinding
 *   page reaches 127.0.0.1 under its own name and is refused here.
 * - Origin, when a browser sends one, must be this server's; API calls marked `Sec-Fetch-Site: cross-site` or
 *   `same-site` (another port on localhost) are refused.
 * - State changes (POST/PUT/PATCH/DELETE) need `Content-Type: application/json` (which a page on another origin
 *   cannot send without a CORS preflight, and this server never approves one) and the per-session token from
 *   GET /api/session in `x-tunekit-session` (which only same-origin script can read).
 */
export const SESSION_HEADER = "x-tunekit-session";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The Host values this server answers to, or null for any. A loopback bind answers to every loopback name on
 * its port; a specific address to itself; a wildcard bind (0.0.0.0, ::) cannot know its names, so only a
 * configured list restricts it (the access token, required off loopback, is then what protects it).
 */
export function allowedHostsFor(host: string, port: number, configured: readonly string[] = []): Set<string> | null {
  const names = new Set(configured.map((h) => (/^(\[.*\]|[^:]*):\d+$/.test(h) ? h : hostPort(h, port)).toLowerCase()));
  if (host === "0.0.0.0" || host === "::") return names.size > 0 ? names : null;
  names.add(hostPort(host, port));
  if (isLoopbackHost(host)) for (const alias of ["127.0.0.1", "localhost", "::1"]) names.add(hostPort(alias, port));
  return names;
}

function hostPort(host: string, port: number): string {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h.includes(":") ? `[${h}]:${port}` : `${h}:${port}`;
}

export function requestGuard(options: { allowedHosts: () => Set<string> | null; sessionToken: string }): Middleware {
  return async (c, next) => {
    checkHost(c, options.allowedHosts());
    checkOrigin(c);
    if (c.path.startsWith("/api/")) {
      const site = c.header("sec-fetch-site");
      if (site === "cross-site" || site === "same-site") {
        throw new ForbiddenError("UI_CROSS_SITE", `a ${site} request to the dashboard API was refused`, { fix: "call the API from the dashboard page itself, or from a non-browser client" });
      }
    }
    if (!SAFE_METHODS.has(c.method)) checkStateChange(c, options.sessionToken);
    await next();
  };
}

function checkHost(c: Context, allowed: Set<string> | null): void {
  if (allowed === null) return;
  const host = (c.header("host") ?? "").toLowerCase();
  if (!allowed.has(host)) {
    throw new ForbiddenError("UI_HOST_NOT_ALLOWED", `the Host header ${JSON.stringify(host.slice(0, 200))} does not name this dashboard`, {
      fix: `open the dashboard as ${[...allowed][0] ?? "the printed URL"}; to serve it under another name, pass it with \`tunekit ui --allowed-host NAME\``,
    });
  }
}

function checkOrigin(c: Context): void {
  const origin = c.header("origin");
  if (origin === undefined) return;
  const host = c.header("host") ?? "";
  if (origin.toLowerCase() !== `http://${host}`.toLowerCase() && origin.toLowerCase() !== `https://${host}`.toLowerCase()) {
    throw new ForbiddenError("UI_ORIGIN_NOT_ALLOWED", `a request from the page origin ${JSON.stringify(origin.slice(0, 200))} was refused`, {
      fix: "use the dashboard from its own page; other web sites may not call it",
    });
  }
}

function checkStateChange(c: Context, sessionToken: string): void {
  const type = (c.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") {
    throw new UsageError("UI_CONTENT_TYPE", `${c.method} ${c.path} needs Content-Type: application/json, not ${JSON.stringify(type || "(none)")}`, {
      fix: "send the body as JSON with Content-Type: application/json",
    });
  }
  const given = c.header(SESSION_HEADER);
  if (given === undefined || !tokensEqual(given, sessionToken)) {
    throw new ForbiddenError("UI_SESSION_TOKEN", given === undefined ? `${c.method} ${c.path} needs the dashboard's session token` : "the dashboard session token is wrong (the server restarted?)", {
      fix: `send the token from GET /api/session in the ${SESSION_HEADER} header; the dashboard page does this itself (reload it after a restart)`,
    });
  }
}
