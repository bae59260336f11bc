import type { IncomingMessage, ServerResponse } from "node:http";
import { NotFoundError, UsageError, httpStatusFor, toTunekitError, type TunekitError } from "../errors/index.js";
import { redactSecrets } from "../log/index.js";
import { DEFAULT_BODY_LIMITS, parseJson, parseJsonObject, readBody, type BodyLimits } from "./body.js";
import { PathRouter, decodeSegment, type Method } from "./router.js";

/**
 * The one HTTP core under the gateway and the dashboard, shaped like hono: routes by method and path pattern,
 * middleware around them, a context with request helpers, and a single `onError` that turns anything thrown
 * into a response through the error boundary (src/errors): the status from the error's kind, the body in the
 * app's own error shape (OpenAI's for the gateway, tunekit's for the dashboard). Stack traces never leave it.
 */
export interface Context {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** The path as sent (percent-encoded; known to decode). */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Decoded path parameters of the matched route (`:id`, `*`). */
  params: Record<string, string>;
  /** The matched route's pattern, or null when none matched. */
  readonly route: string | null;
  /** Aborted when the client goes away before the response has ended. */
  readonly signal: AbortSignal;
  /** Values middleware hands to handlers (e.g. the authenticated key). */
  readonly vars: Map<string, unknown>;
  header(name: string): string | undefined;
  /** The raw body within the app's size and time limits (read once; later calls get the same bytes). */
  body(): Promise<Buffer>;
  /** The body as JSON within the depth limit. */
  json(): Promise<unknown>;
  /** The body as a JSON object; an empty body is `{}` when `emptyIsObject`. */
  jsonObject(options?: { emptyIsObject?: boolean }): Promise<Record<string, unknown>>;
  /** A JSON response with the app's default headers. */
  send(status: number, value: unknown, headers?: Record<string, string | number>): void;
}

/** A handler's non-undefined return value is sent as a 200 JSON response, unless it already answered. */
export type Handler = (c: Context) => unknown;
export type Middleware = (c: Context, next: () => Promise<void>) => Promise<void>;

export interface HttpAppOptions {
  /** The JSON error body this app's clients expect; secrets in it are redacted by the core. */
  errorBody: (error: TunekitError, status: number) => unknown;
  /** Overrides the boundary's status for errors the app owns (an upstream's own 4xx); else `httpStatusFor`. */
  statusFor?: (error: unknown) => number | undefined;
  limits?: Partial<BodyLimits>;
  /** Headers on every JSON response (e.g. cache-control). */
  jsonHeaders?: Record<string, string>;
  /** Runs when no route matches the path (any method): static files, or an app-specific 404. Default: HTTP_NOT_FOUND. */
  fallback?: Handler;
  /** Told of every internal (5xx-kind) error before it is answered, e.g. to log it. */
  onInternalError?: (error: unknown, c: Context) => void;
}

export class HttpApp {
  private readonly router = new PathRouter<Handler>();
  private readonly middleware: Middleware[] = [];
  readonly limits: BodyLimits;

  constructor(private readonly options: HttpAppOptions) {
    this.limits = { ...DEFAULT_BODY_LIMITS, ...options.limits };
  }

  use(mw: Middleware): this {
    this.middleware.push(mw);
    return this;
  }

  on(method: Method, pattern: string, handler: Handler): this {
    this.router.add(method, pattern, handler);
    return this;
  }

  get(pattern: string, handler: Handler): this {
    return this.on("GET", pattern, handler);
  }

  post(pattern: string, handler: Handler): this {
    return this.on("POST", pattern, handler);
  }

  /** The node:http request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const c = this.createContext(req, res);
    try {
      decodeSegment(c.path); // a malformed %-escape anywhere in the path is the client's 400, not a URIError 500
      const found = this.router.match(c.method, c.path);
      let handler: Handler = this.options.fallback ?? notFound;
      if (found !== null && "allowed" in found) handler = () => methodNotAllowed(c, found.allowed);
      else if (found !== null) {
        c.params = found.params;
        (c as { route: string | null }).route = found.pattern;
        handler = found.value;
      }
      await this.run(c, 0, handler);
    } catch (error) {
      this.sendError(c, error);
    }
  }

  private async run(c: Context, index: number, handler: Handler): Promise<void> {
    const mw = this.middleware[index];
    if (mw) {
      await mw(c, () => this.run(c, index + 1, handler));
      return;
    }
    const value = await handler(c);
    if (value !== undefined && !c.res.headersSent) c.send(200, value);
  }

  /** The one error mapping: kind → status (boundary), the app's body shape, Retry-After, no stack trace. */
  sendError(c: Context, error: unknown, headers: Record<string, string | number> = {}): number {
    const e = toTunekitError(error);
    const status = this.options.statusFor?.(error) ?? httpStatusFor(e);
    if (status >= 500) this.options.onInternalError?.(error, c);
    if (c.res.headersSent) {
      // Part of a response already went out: a cut connection is the only honest signal left.
      c.res.destroy();
      return status;
    }
    const details = (e.details ?? {}) as { retryAfterSeconds?: number; allow?: string; closeConnection?: boolean };
    const out: Record<string, string | number> = { ...headers };
    if (details.retryAfterSeconds !== undefined) out["retry-after"] = String(details.retryAfterSeconds);
    if (details.allow) out.allow = details.allow;
    if (details.closeConnection) {
      // The rest of a slow body may still be trickling in: answer, then drop the connection.
      out.connection = "close";
      c.res.once("finish", () => c.req.socket.destroy());
    }
    const body = Buffer.from(redactSecrets(JSON.stringify(this.options.errorBody(e, status))));
    c.res.writeHead(status, { ...this.options.jsonHeaders, ...out, "content-type": "application/json; charset=utf-8", "content-length": body.length });
    c.res.end(body);
    return status;
  }

  private createContext(req: IncomingMessage, res: ServerResponse): Context {
    const raw = req.url ?? "/";
    const target = /^https?:\/\//i.test(raw) ? raw.replace(/^https?:\/\/[^/?#]*/i, "") || "/" : raw; // absolute-form (proxies)
    const q = target.indexOf("?");
    const abort = new AbortController();
    res.once("close", () => {
      if (!res.writableEnded) abort.abort();
    });
    const limits = this.limits;
    const jsonHeaders = this.options.jsonHeaders;
    let body: Promise<Buffer> | undefined;
    return {
      req,
      res,
      method: req.method ?? "GET",
      path: q < 0 ? target : target.slice(0, q),
      query: new URLSearchParams(q < 0 ? "" : target.slice(q + 1)),
      params: {},
      route: null,
      signal: abort.signal,
      vars: new Map(),
      header: (name) => {
        const v = req.headers[name.toLowerCase()];
        return Array.isArray(v) ? v.join(", ") : v;
      },
      body: () => (body ??= readBody(req, limits)),
      async json() {
        return parseJson(await this.body(), limits.maxJsonDepth);
      },
      async jsonObject(options) {
        return parseJsonObject(await this.body(), limits.maxJsonDepth, options?.emptyIsObject);
      },
      send(status, value, headers = {}) {
        if (res.headersSent) {
          res.end();
          return;
        }
        const b = Buffer.from(JSON.stringify(value));
        res.writeHead(status, { ...jsonHeaders, ...headers, "content-type": "application/json; charset=utf-8", "content-length": b.length });
        res.end(b);
      },
    };
  }
}

function notFound(c: Context): never {
  throw new NotFoundError("HTTP_NOT_FOUND", `no endpoint ${c.method} ${c.path}`, { fix: "check the method and the path" });
}

function methodNotAllowed(c: Context, allowed: readonly string[]): never {
  throw new UsageError("HTTP_METHOD_NOT_ALLOWED", `${c.method} is not allowed on ${c.path}`, { fix: `use ${allowed.join(" or ")}`, details: { allow: allowed.join(", ") } });
}
