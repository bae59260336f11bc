import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ConflictError, RateLimitError } from "../errors/index.js";
import { HttpApp } from "./app.js";

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listen(app: HttpApp): Promise<string> {
  const server = http.createServer(app.listener);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const shapes = {
  tunekit: (e: { code: string; message: string }) => ({ error: { code: e.code, message: e.message } }),
  openai: (e: { code: string; message: string }) => ({ error: { message: e.message, type: "x", param: null, code: e.code } }),
};

function demoApp(shape: keyof typeof shapes, trace: string[] = []): HttpApp {
  return new HttpApp({ errorBody: shapes[shape], jsonHeaders: { "cache-control": "no-store" }, limits: { maxBytes: 64, timeoutMs: 200, maxJsonDepth: 4 } })
    .use(async (c, next) => {
      trace.push(`in ${c.method} ${c.route}`);
      await next();
      trace.push("out");
    })
    .get("/items/:id", (c) => ({ id: c.params.id, q: c.query.get("q") }))
    .post("/echo", async (c) => c.jsonObject())
    .get("/conflict", () => {
      throw new ConflictError("DEMO_CONFLICT", "already done");
    })
    .get("/limited", () => {
      throw new RateLimitError("DEMO_LIMITED", "slow down", { details: { retryAfterSeconds: 3 } });
    })
    .get("/boom", () => {
      throw new TypeError("key sk-abcdefghijklmnopqrstuvwxyz1234 is undefined");
    });
}

describe("HttpApp", () => {
  it("routes with params and query, runs middleware around the handler, and sends the return value as JSON", async () => {
    const trace: string[] = [];
    const url = await listen(demoApp("tunekit", trace));
    const res = await fetch(`${url}/items/a%20b?q=1`);
    expect([res.status, res.headers.get("cache-control"), await res.json()]).toEqual([200, "no-store", { id: "a b", q: "1" }]);
    expect(trace).toEqual(["in GET /items/:id", "out"]);
  });

  it("maps the same error to the same status in each app's own error shape", async () => {
    const a = await listen(demoApp("tunekit"));
    const b = await listen(demoApp("openai"));
    const ra = await fetch(`${a}/conflict`);
    const rb = await fetch(`${b}/conflict`);
    expect([ra.status, await ra.json()]).toEqual([409, { error: { code: "DEMO_CONFLICT", message: "already done" } }]);
    expect([rb.status, await rb.json()]).toEqual([409, { error: { message: "already done", type: "x", param: null, code: "DEMO_CONFLICT" } }]);
  });

  it("answers an unexpected error with 500 INTERNAL: no stack trace, secrets redacted", async () => {
    const url = await listen(demoApp("tunekit"));
    const res = await fetch(`${url}/boom`);
    const text = await res.text();
    expect([res.status, JSON.parse(text)]).toEqual([500, { error: { code: "INTERNAL", message: "unexpected error: key [REDACTED] is undefined" } }]);
    expect(text).not.toContain("at ");
  });

  it("sets Retry-After from the error, and 404 / 405 (with Allow) for unknown paths and methods", async () => {
    const url = await listen(demoApp("tunekit"));
    const limited = await fetch(`${url}/limited`);
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "3"]);
    const missing = await fetch(`${url}/nothing`);
    expect([missing.status, (await missing.json()).error.code]).toEqual([404, "HTTP_NOT_FOUND"]);
    const wrong = await fetch(`${url}/echo`);
    expect([wrong.status, wrong.headers.get("allow"), (await wrong.json()).error.code]).toEqual([400, "POST", "HTTP_METHOD_NOT_ALLOWED"]);
  });

  it("answers malformed percent-encoding, bad JSON, deep JSON and big bodies with 4xx", async () => {
    const url = await listen(demoApp("tunekit"));
    const codes = async (r: Promise<Response>) => {
      const res = await r;
      return [res.status, (await res.json()).error.code];
    };
    const post = (body: string) => fetch(`${url}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(await codes(fetch(`${url}/items/%zz`))).toEqual([400, "HTTP_BAD_PATH"]);
    expect(await codes(post("{"))).toEqual([400, "HTTP_BAD_JSON"]);
    expect(await codes(post('{"a":[[[[1]]]]}'))).toEqual([400, "HTTP_JSON_TOO_DEEP"]);
    expect(await codes(post(JSON.stringify({ a: "x".repeat(100) })))).toEqual([413, "HTTP_BODY_TOO_LARGE"]);
    expect(await (await post('{"a":[1]}')).json()).toEqual({ a: [1] });
  });

  it("answers a body that does not arrive in time with 408 and closes the connection", async () => {
    const url = new URL(await listen(demoApp("tunekit")));
    const started = performance.now();
    const outcome = await new Promise<{ status: number; connection: string | undefined; closed: boolean }>((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path: "/echo", method: "POST", headers: { "content-type": "application/json", "content-length": 50 } }, (res) => {
        res.resume();
        const done = () => resolve({ status: res.statusCode!, connection: res.headers.connection, closed: true });
        res.on("end", () => (req.socket!.destroyed ? done() : req.socket!.once("close", done)));
      });
      req.on("error", reject);
      req.write("{"); // and nothing more
    });
    expect(outcome).toEqual({ status: 408, connection: "close", closed: true });
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
