import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local node:http server for testing a provider through its real SDK. Routes are (method, path pattern)
 * → handler; every request is recorded (method, path, query, headers, raw body) for assertions; a queued
 * failure answers the next matching request with an error status (429, 401, 400…).
 */
export interface FixtureRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: Buffer;
  params: Record<string, string>;
}

export interface FixtureResponse {
  status?: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export type FixtureHandler = (req: FixtureRequest) => FixtureResponse | Promise<FixtureResponse>;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: FixtureHandler;
}

export class FixtureServer {
  readonly requests: FixtureRequest[] = [];
  private readonly routes: Route[] = [];
  private readonly failures: { method: string; pattern: RegExp; response: FixtureResponse }[] = [];
  private server?: Server;
  url = "";

  /** `path` like "/v1/fine_tuning/jobs/:id/events"; params may contain anything but "/" (":key+" may contain "/"). */
  route(method: string, path: string, handler: FixtureHandler): this {
    const keys: string[] = [];
    const source = path.replace(/:([A-Za-z]+)(\+?)/g, (_, key: string, plus: string) => {
      keys.push(key);
      return plus ? "(.+)" : "([^/]+)";
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), keys, handler });
    return this;
  }

  /** The next request matching method + path prefix gets this response instead. */
  failNext(method: string, pathPrefix: string, response: FixtureResponse): void {
    this.failures.push({ method, pattern: new RegExp(`^${pathPrefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`), response });
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://fixture");
    const path = decodeURIComponent(url.pathname);
    const base = { method: req.method ?? "GET", path, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks), params: {} };
    this.requests.push(base);
    let response: FixtureResponse = { status: 404, json: { error: { message: `fixture: no route for ${base.method} ${path}` } } };
    const failAt = this.failures.findIndex((f) => f.method === base.method && f.pattern.test(path));
    if (failAt >= 0) {
      response = this.failures.splice(failAt, 1)[0].response;
    } else {
      for (const r of this.routes) {
        const m = r.method === base.method ? r.pattern.exec(path) : null;
        if (!m) continue;
        const params = Object.fromEntries(r.keys.map((k, i) => [k, m[i + 1]]));
        base.params = params;
        try {
          response = await r.handler({ ...base, params });
        } catch (error) {
          response = { status: 500, json: { error: { message: String(error) } } };
        }
        break;
      }
    }
    const body = response.json !== undefined ? JSON.stringify(response.json) : (response.text ?? "");
    res.writeHead(response.status ?? 200, {
      ...(response.json !== undefined ? { "content-type": "application/json" } : {}),
      ...response.headers,
    });
    res.end(body);
  }
}

/** The parts of a multipart/form-data body: field name → { filename?, data }. */
export function parseMultipart(req: FixtureRequest): Record<string, { filename?: string; data: Buffer }> {
  const type = String(req.headers["content-type"] ?? "");
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
  if (!boundary) return {};
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: Record<string, { filename?: string; data: Buffer }> = {};
  let start = req.body.indexOf(delimiter);
  while (start >= 0) {
    const next = req.body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    const part = req.body.subarray(start + delimiter.length + 2, next - 2);
    const headerEnd = part.indexOf("\r\n\r\n");
    const head = part.subarray(0, headerEnd).toString("utf8");
    const name = /name="([^"]+)"/.exec(head)?.[1];
    const filename = /filename="([^"]*)"/.exec(head)?.[1];
    if (name) parts[name] = { ...(filename !== undefined ? { filename } : {}), data: part.subarray(headerEnd + 4) };
    start = next;
  }
  return parts;
}
