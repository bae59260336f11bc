import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { PayloadTooLargeError, UsageError, errorBody, httpStatusFor } from "../errors/index.js";
import type { Workspace } from "../registry/index.js";

/**
 * The dashboard API's plumbing: a route table (method + path pattern with :params), JSON bodies validated
 * with zod, and the one error boundary (errorBody / httpStatusFor) for every response.
 */
export interface ApiRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  ws: Workspace;
  /** Aborted when the client goes away (streams and long scans stop). */
  signal: AbortSignal;
  res: ServerResponse;
}

/** A handler returns a JSON value, or STREAMED when it wrote the response itself (SSE). */
export const STREAMED = Symbol("streamed");
export type Handler = (req: ApiRequest) => Promise<unknown>;

export interface Route {
  method: "GET" | "POST";
  pattern: string;
  handler: Handler;
}

interface CompiledRoute extends Route {
  regex: RegExp;
  names: string[];
}

const MAX_BODY_BYTES = 1 << 20;

export class ApiRouter {
  private readonly routes: CompiledRoute[] = [];

  add(routes: readonly Route[]): this {
    for (const r of routes) {
      const names: string[] = [];
      const source = r.pattern.replace(/:([A-Za-z]+)/g, (_, name: string) => {
        names.push(name);
        return "([^/]+)";
      });
      this.routes.push({ ...r, regex: new RegExp(`^${source}$`), names });
    }
    return this;
  }

  match(method: string, path: string): { route: CompiledRoute; params: Record<string, string> } | { allowed: string[] } | null {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
      return { route, params };
    }
    return allowed.length ? { allowed } : null;
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

export function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, httpStatusFor(error), errorBody(error));
}

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new PayloadTooLargeError("UI_BODY_TOO_LARGE", `request body is over ${MAX_BODY_BYTES} bytes`, { fix: "send a smaller JSON body" });
    }
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (e) {
    throw new UsageError("UI_BODY_INVALID_JSON", `request body is not JSON: ${(e as Error).message}`, { fix: "send a JSON object with content-type application/json" });
  }
}

/** Parses a request body against a schema; every problem in one error. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
    throw new UsageError("UI_BODY_INVALID", `invalid ${what}: ${problems}`, { fix: `correct the fields named above and send the ${what} again` });
  }
  return parsed.data;
}

/** An integer query parameter with bounds; absent → fallback. */
export function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError("UI_QUERY_INVALID", `query parameter ${name}=${JSON.stringify(raw)} is not an integer in ${min}…${max}`, { fix: `pass ${name}=${fallback}` });
  }
  return n;
}
