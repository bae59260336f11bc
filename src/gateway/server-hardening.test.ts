import http from "node:http";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { GatewaySectionSchema } from "../config/index.js";
import { assertExposureAllowed } from "./server.js";
import { startTestGateway } from "./testing/gateway-fixture.js";
import { StubUpstream } from "./testing/stub-upstream.js";

/** Issue #19 items 5, 7 and 8 on the gateway: each test failed before its fix. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(config: Record<string, unknown> = {}, stub: Parameters<typeof StubUpstream.start>[0] = {}) {
  const up = await StubUpstream.start(stub);
  const t = await startTestGateway({ auth: { required: false }, logging: { durability: "write", flushMs: 20 }, routes: [{ name: "base", baseUrl: up.url, retries: 2, retryBackoffMs: 1 }], ...config });
  cleanups.push(async () => {
    await t.stop();
    await up.close();
  });
  const client = new OpenAI({ baseURL: `${t.gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
  return { ...t, up, client };
}

type ApiError = InstanceType<typeof OpenAI.APIError>;
const fields = (e: unknown) => [(e as ApiError).status, (e as ApiError).type, (e as ApiError).code, (e as ApiError).param];

describe("gateway: request shape (400, OpenAI's error shape, naming the param)", () => {
  it("refuses content: 42, a null message, max_tokens: 'lots' and temperature: 3 without calling the upstream", async () => {
    const { client, up } = await setup();
    const bad = (body: Record<string, unknown>) => client.chat.completions.create({ model: "base", ...body } as never).catch((e: unknown) => e);
    expect(fields(await bad({ messages: [{ role: "user", content: 42 }] }))).toEqual([400, "invalid_request_error", "GATEWAY_BAD_REQUEST", "messages[0].content"]);
    expect(fields(await bad({ messages: [null] }))).toEqual([400, "invalid_request_error", "GATEWAY_BAD_REQUEST", "messages[0]"]);
    expect(fields(await bad({ messages: [{ role: "user", content: "x" }], max_tokens: "lots" }))).toEqual([400, "invalid_request_error", "GATEWAY_BAD_REQUEST", "max_tokens"]);
    expect(fields(await bad({ messages: [{ role: "user", content: "x" }], temperature: 3 }))).toEqual([400, "invalid_request_error", "GATEWAY_BAD_REQUEST", "temperature"]);
    expect(fields(await bad({ messages: [] }))).toEqual([400, "invalid_request_error", "GATEWAY_BAD_REQUEST", "messages"]);
    expect(up.received).toEqual([]);
  });

  it("passes documented variants and unknown extra fields through unchanged", async () => {
    const { client, up } = await setup();
    const messages = [
      { role: "system", content: [{ type: "text", text: "be brief" }] },
      { role: "user", content: "weather?" },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "weather", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "c1", content: "sunny" },
    ];
    const r = await client.chat.completions.create({ model: "base", messages, max_completion_tokens: 5, stop: ["\n"], vendor_extension: { beam: 2 } } as never);
    expect((r as { choices: { message: { content: string } }[] }).choices[0].message.content).toBe("echo: sunny");
    expect(up.received[0].body).toEqual({ model: "base", messages, max_completion_tokens: 5, stop: ["\n"], vendor_extension: { beam: 2 } });
  });

  it("refuses an assistant message with content null and no tool calls", async () => {
    const { client } = await setup();
    const e = await client.chat.completions.create({ model: "base", messages: [{ role: "assistant", content: null }, { role: "user", content: "x" }] } as never).catch((x: unknown) => x);
    expect(fields(e)).toEqual([400, "invalid_request_error", "GATEWAY_BAD_REQUEST", "messages[0].content"]);
  });

  it("answers bad JSON, JSON nested 5,000 deep and a malformed %-escape with 400, not 422 or 500", async () => {
    const { gateway } = await setup();
    const post = (body: string) => fetch(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const answer = async (r: Response) => [r.status, await r.json()];
    expect(await answer(await post("{nope"))).toEqual([
      400,
      { error: { message: expect.stringMatching(/^the request body is not valid JSON: /), type: "invalid_request_error", param: null, code: "HTTP_BAD_JSON", fix: "send a JSON object with Content-Type: application/json" } },
    ]);
    const deep = `{"model":"base","messages":${"[".repeat(5000)}${"]".repeat(5000)}}`;
    expect((await answer(await post(deep)))[1].error.code).toBe("HTTP_JSON_TOO_DEEP");
    expect((await post(deep)).status).toBe(400);
    const path = await fetch(`${gateway.url}/v1/admin/requests/%zz`);
    expect([path.status, (await path.json()).error.code]).toEqual([400, "HTTP_BAD_PATH"]);
  });
});

describe("gateway: slow bodies and client disconnects", () => {
  it("answers a body trickling in at 1 byte / 50 ms with 408 at the body timeout and closes the connection", async () => {
    const { gateway } = await setup({ bodyTimeoutMs: 300 });
    const url = new URL(gateway.url);
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path: "/v1/chat/completions", method: "POST", headers: { "content-type": "application/json", "content-length": 10_000 } }, (res) => {
        res.resume();
        res.on("end", () => (req.socket!.destroyed ? resolve(res.statusCode!) : req.socket!.once("close", () => resolve(res.statusCode!))));
      });
      req.on("error", reject);
      timer = setInterval(() => req.write(" "), 50);
    });
    clearInterval(timer);
    expect(status).toBe(408);
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it("aborts the upstream when the client hangs up mid-stream and logs the request as cancelled (499)", async () => {
    const reply = Array.from({ length: 40 }, (_, i) => `w${i}`).join(" ");
    const { gateway, up } = await setup({}, { reply, chunkDelayMs: 50 });
    const abort = new AbortController();
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "base", stream: true, messages: [{ role: "user", content: "x" }] }),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // the first chunk arrived: the stream is live
    abort.abort();
    await up.waitForAbort();
    expect(up.aborted.length).toBe(1);
    expect(up.aborted[0].chunksSent).toBeLessThan(10); // of 43: the upstream stopped early, it was not read to the end
    expect(up.received.length).toBe(1); // and nothing was retried on the gone client's behalf
    await new Promise((r) => setTimeout(r, 100));
    await gateway.pipeline.drain();
    const rows = await gateway.store.listRequests();
    expect(rows.map((r) => [r.status, r.errorCode, r.stream])).toEqual([[499, "GATEWAY_CLIENT_CANCELLED", true]]);
  });

  it("aborts a non-streaming upstream call when the client hangs up while waiting", async () => {
    const { gateway, up } = await setup({}, { delayMs: 5000 });
    const abort = new AbortController();
    const pending = fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "base", messages: [{ role: "user", content: "x" }] }),
      signal: abort.signal,
    }).catch(() => null);
    while (up.received.length === 0) await new Promise((r) => setTimeout(r, 10));
    abort.abort();
    await pending;
    await up.waitForAbort();
    await new Promise((r) => setTimeout(r, 100));
    await gateway.pipeline.drain();
    expect((await gateway.store.listRequests()).map((r) => [r.status, r.errorCode, r.attempts])).toEqual([[499, "GATEWAY_CLIENT_CANCELLED", 0]]);
  });
});

describe("gateway: exposure without auth", () => {
  const config = (host: string, required: boolean) => GatewaySectionSchema.parse({ host, auth: { required } });

  it("refuses a non-loopback bind with auth off unless --allow-unauthenticated", () => {
    expect(() => assertExposureAllowed(config("0.0.0.0", false))).toThrow(
      expect.objectContaining({ code: "GATEWAY_UNAUTHENTICATED_EXPOSURE", kind: "usage", fix: expect.stringContaining("--allow-unauthenticated") }),
    );
    expect(() => assertExposureAllowed(config("192.168.1.5", false))).toThrow(expect.objectContaining({ code: "GATEWAY_UNAUTHENTICATED_EXPOSURE" }));
    for (const ok of [config("0.0.0.0", true), config("127.0.0.1", false), config("::1", false), config("localhost", false)]) expect(() => assertExposureAllowed(ok)).not.toThrow();
    expect(() => assertExposureAllowed(config("0.0.0.0", false), true)).not.toThrow();
  });

  it("does not start (nor open its log) when refused", async () => {
    await expect(startTestGateway({ host: "0.0.0.0", auth: { required: false } })).rejects.toMatchObject({ code: "GATEWAY_UNAUTHENTICATED_EXPOSURE" });
  });
});
