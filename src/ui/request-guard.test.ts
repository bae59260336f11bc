import http from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initWorkspace, openWorkspace, type Workspace } from "../registry/index.js";
import { allowedHostsFor } from "./request-guard.js";
import { startUiServer, type UiServer } from "./server.js";

/** The dashboard refusing other web pages: raw HTTP, so each test controls Host, Origin and Content-Type. */
let dir: string;
let ws: Workspace;
let server: UiServer;
let runId: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tk-guard-"));
  await initWorkspace(dir, { name: "guard" });
  ws = await openWorkspace({ dir, env: {} });
  const run = await ws.registry.createRun({ kind: "train", name: "victim", config: {} });
  await ws.registry.transitionRun(run.id, "running");
  runId = run.id;
  server = await startUiServer({ ws });
});
afterAll(async () => {
  await server?.close();
  await ws?.close();
  await rm(dir, { recursive: true, force: true });
});

function send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: server.port, method, path, headers: { host: `127.0.0.1:${server.port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode!, body: res.headers["content-type"]?.startsWith("application/json") ? JSON.parse(text) : text });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const sessionToken = async () => (await send("GET", "/api/session")).body.sessionToken as string;
const code = (r: { status: number; body: any }) => [r.status, r.body?.error?.code ?? null];

describe("dashboard request guard", () => {
  it("refuses a cross-origin no-cors text/plain POST and leaves the run running", async () => {
    // What <form> / fetch(mode: "no-cors") on another site can send: text/plain, a foreign Origin, no token.
    const r = await send("POST", `/api/runs/${runId}/cancel`, { "content-type": "text/plain;charset=UTF-8", origin: "http://evil.example" }, "{}");
    expect(code(r)).toEqual([403, "UI_ORIGIN_NOT_ALLOWED"]);
    const noOrigin = await send("POST", `/api/runs/${runId}/cancel`, { "content-type": "text/plain" }, "{}");
    expect(code(noOrigin)).toEqual([400, "UI_CONTENT_TYPE"]);
    expect((await ws.registry.getRun(runId)).status).toBe("running");
  });

  it("refuses a state change without the session token, or with a wrong one", async () => {
    const json = { "content-type": "application/json" };
    expect(code(await send("POST", `/api/runs/${runId}/cancel`, json, "{}"))).toEqual([403, "UI_SESSION_TOKEN"]);
    expect(code(await send("POST", `/api/runs/${runId}/cancel`, { ...json, "x-tunekit-session": "guess" }, "{}"))).toEqual([403, "UI_SESSION_TOKEN"]);
    expect((await ws.registry.getRun(runId)).status).toBe("running");
  });

  it("refuses a DNS-rebinding Host, and cross-site API reads", async () => {
    expect(code(await send("GET", "/api/session", { host: `rebind.evil.example:${server.port}` }))).toEqual([403, "UI_HOST_NOT_ALLOWED"]);
    expect(code(await send("GET", "/api/runs", { host: "127.0.0.1:1" }))).toEqual([403, "UI_HOST_NOT_ALLOWED"]);
    expect(code(await send("GET", "/api/session", { "sec-fetch-site": "cross-site" }))).toEqual([403, "UI_CROSS_SITE"]);
    expect(code(await send("GET", "/api/session", { host: `localhost:${server.port}` }))[0]).toBe(200);
  });

  it("answers malformed percent-encoding and deep JSON with 400, not 500", async () => {
    expect(code(await send("GET", "/api/runs/%zz"))).toEqual([400, "HTTP_BAD_PATH"]);
    expect(code(await send("GET", "/%E0%A4%A"))).toEqual([400, "HTTP_BAD_PATH"]);
    const token = await sessionToken();
    const deep = "[".repeat(5000) + "]".repeat(5000);
    const json = { "content-type": "application/json", "x-tunekit-session": token };
    expect(code(await send("POST", "/api/cost/estimate", json, deep))).toEqual([400, "HTTP_JSON_TOO_DEEP"]);
    expect(code(await send("POST", "/api/cost/estimate", json, "{nope"))).toEqual([400, "HTTP_BAD_JSON"]); // was 400 here, 422 on the gateway
  });

  it("tells an unknown endpoint (404) from a wrong method (Allow header)", async () => {
    const token = await sessionToken();
    const json = { "content-type": "application/json", "x-tunekit-session": token };
    expect(code(await send("POST", "/api/nothing", json, "{}"))).toEqual([404, "UI_NOT_FOUND"]);
    expect(code(await send("GET", "/api/nothing"))).toEqual([404, "UI_NOT_FOUND"]);
    expect(code(await send("POST", "/api/datasets", json, "{}"))).toEqual([400, "HTTP_METHOD_NOT_ALLOWED"]);
  });

  it("lets the dashboard's own flow through: same origin, JSON and the session token", async () => {
    const token = await sessionToken();
    const headers = { "content-type": "application/json", "x-tunekit-session": token, origin: `http://127.0.0.1:${server.port}`, "sec-fetch-site": "same-origin" };
    const r = await send("POST", `/api/runs/${runId}/cancel`, headers, "{}");
    expect([r.status, r.body.run.status]).toEqual([200, "cancelled"]);
  });
});

describe("allowedHostsFor", () => {
  it("lists loopback aliases for a loopback bind, the address itself otherwise, and nothing to check for a wildcard bind", () => {
    expect(allowedHostsFor("127.0.0.1", 7860)).toEqual(new Set(["127.0.0.1:7860", "localhost:7860", "[::1]:7860"]));
    expect(allowedHostsFor("192.168.1.5", 80, ["dash.internal"])).toEqual(new Set(["dash.internal:80", "192.168.1.5:80"]));
    expect(allowedHostsFor("0.0.0.0", 7860)).toBeNull();
    expect(allowedHostsFor("0.0.0.0", 7860, ["dash.internal:443"])).toEqual(new Set(["dash.internal:443"]));
  });
});
