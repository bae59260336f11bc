import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { StubUpstream } from "./testing/stub-upstream.js";
import { startTestGateway } from "./testing/gateway-fixture.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(config: Record<string, unknown>, stubs: StubUpstream[] = [], env: NodeJS.ProcessEnv = {}) {
  const t = await startTestGateway({ auth: { required: false }, logging: { durability: "write", flushMs: 20 }, ...config }, { env });
  cleanups.push(async () => {
    await t.stop();
    for (const s of stubs) await s.close();
  });
  const client = new OpenAI({ baseURL: `${t.gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
  return { ...t, client };
}

describe("gateway: OpenAI-compatible chat completions", () => {
  it("passes a non-streaming completion through and names the variant and request id", async () => {
    const up = await StubUpstream.start();
    const { client, gateway } = await setup(
      { routes: [{ name: "base", baseUrl: up.url, model: "gpt-4o-mini", apiKeyEnv: "UP_KEY", pricing: { inputPerMTok: 1, outputPerMTok: 2 } }] },
      [up],
      { UP_KEY: "sk-upstreamsecret0123456789" },
    );
    const { data, response } = await client.chat.completions.create({ model: "base", messages: [{ role: "user", content: "hi there" }] }).withResponse();
    expect(data.choices[0].message).toEqual({ role: "assistant", content: "echo: hi there", refusal: undefined });
    expect(response.headers.get("x-tunekit-variant")).toBe("base");
    const id = response.headers.get("x-tunekit-request-id")!;
    expect(id).toMatch(/^req-[0-9a-f-]{36}$/);
    expect(up.received[0].body.model).toBe("gpt-4o-mini");
    expect(up.received[0].headers.authorization).toBe("Bearer sk-upstreamsecret0123456789");
    await gateway.pipeline.drain();
    const row = await gateway.store.getRequest(id);
    expect({ ...row, latencyMs: 0, ttftMs: 0, ts: 0 }).toEqual({
      id, ts: 0, model: "base", variant: "base", experiment: null, backend: "base", status: 200, errorCode: null, stream: false,
      latencyMs: 0, ttftMs: 0, attempts: 1, promptTokens: 10, completionTokens: 3, costUsd: (10 * 1 + 3 * 2) / 1e6, keyId: null, userKey: null,
      input: JSON.stringify([{ role: "user", content: "hi there" }]), output: "echo: hi there", finishReason: "stop",
    });
  });

  it("streams chunks to the client as the upstream sends them", async () => {
    // Lockstep: the upstream sends chunk k+1 only after the client has received chunk k. A gateway that buffered
    // the stream would never deliver chunk k, and this test would time out instead of passing.
    const received: ((v: void) => void)[] = [];
    const waits = Array.from({ length: 8 }, () => new Promise<void>((r) => received.push(r)));
    const up = await StubUpstream.start({ reply: "one two three four", beforeChunk: (k) => waits[k - 1] });
    const { client, gateway } = await setup({ routes: [{ name: "base", baseUrl: up.url }] }, [up]);
    const stream = await client.chat.completions.create({ model: "base", stream: true, messages: [{ role: "user", content: "x" }] });
    const texts: string[] = [];
    for await (const chunk of stream) {
      texts.push(chunk.choices[0]?.delta?.content ?? "");
      received[texts.length - 1]();
    }
    expect(texts).toEqual(["", "one", " two", " three", " four", ""]);
    await gateway.pipeline.drain();
    const rows = await gateway.store.listRequests();
    expect(rows.map((r) => [r.stream, r.output, r.completionTokens, r.finishReason])).toEqual([[true, "one two three four", 4, "stop"]]);
  }, 20_000);

  it("retries 429s and then succeeds", async () => {
    const up = await StubUpstream.start({ failFirst: 2, failStatus: 429 });
    const { client, gateway } = await setup({ routes: [{ name: "base", baseUrl: up.url, retries: 2, retryBackoffMs: 1 }] }, [up]);
    const r = await client.chat.completions.create({ model: "base", messages: [{ role: "user", content: "a" }] });
    expect(r.choices[0].message.content).toBe("echo: a");
    await gateway.pipeline.drain();
    expect((await gateway.store.listRequests()).map((x) => x.attempts)).toEqual([3]);
  });

  // Regression (issue #15): the gateway had its own retry loop that ignored Retry-After (fixed doubling only).
  it("waits for the upstream's Retry-After before retrying", async () => {
    const up = await StubUpstream.start({ failFirst: 1, failStatus: 429, failRetryAfter: "0.4" });
    const { client } = await setup({ routes: [{ name: "base", baseUrl: up.url, retries: 1, retryBackoffMs: 1 }] }, [up]);
    const r = await client.chat.completions.create({ model: "base", messages: [{ role: "user", content: "a" }] });
    expect(r.choices[0].message.content).toBe("echo: a");
    expect(up.arrivals[1] - up.arrivals[0]).toBeGreaterThanOrEqual(395);
  });

  it("falls back to another route after the retries fail, keeping the assigned variant", async () => {
    const bad = await StubUpstream.start({ failFirst: 100, failStatus: 503 });
    const good = await StubUpstream.start({ reply: "from fallback" });
    const { client, gateway } = await setup(
      { routes: [{ name: "primary", baseUrl: bad.url, retries: 1, retryBackoffMs: 1, fallback: "backup" }, { name: "backup", baseUrl: good.url, retries: 0 }] },
      [bad, good],
    );
    const { data, response } = await client.chat.completions.create({ model: "primary", messages: [{ role: "user", content: "a" }] }).withResponse();
    expect(data.choices[0].message.content).toBe("from fallback");
    expect(response.headers.get("x-tunekit-variant")).toBe("primary");
    expect(bad.received.length).toBe(2);
    await gateway.pipeline.drain();
    expect((await gateway.store.listRequests()).map((x) => [x.variant, x.backend, x.attempts])).toEqual([["primary", "backup", 3]]);
  });

  it("fails with 502 GATEWAY_UPSTREAM_TIMEOUT when the upstream hangs past its timeout", async () => {
    const up = await StubUpstream.start({ hang: true });
    const { client } = await setup({ routes: [{ name: "base", baseUrl: up.url, timeoutMs: 150, retries: 1, retryBackoffMs: 1 }] }, [up]);
    const t0 = performance.now();
    const error = await client.chat.completions.create({ model: "base", messages: [{ role: "user", content: "a" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("GATEWAY_UPSTREAM_TIMEOUT");
    expect(up.received.length).toBe(2);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it("passes an upstream 400 through unchanged without retrying", async () => {
    const up = await StubUpstream.start({ failFirst: 1, failStatus: 400 });
    const { client } = await setup({ routes: [{ name: "base", baseUrl: up.url, retries: 3 }] }, [up]);
    const error = (await client.chat.completions.create({ model: "base", messages: [{ role: "user", content: "a" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect([error.status, error.message]).toEqual([400, "400 stub failure 1"]);
    expect(up.received.length).toBe(1);
  });

  it("lists routes and experiment models on /v1/models and rejects unknown models with 404", async () => {
    const up = await StubUpstream.start();
    const { client } = await setup(
      { routes: [{ name: "a", baseUrl: up.url }, { name: "b", baseUrl: up.url }], experiments: [{ name: "ab", model: "support", variants: [{ route: "a" }, { route: "b" }] }] },
      [up],
    );
    const models = [];
    for await (const m of client.models.list()) models.push([m.id, m.owned_by]);
    expect(models).toEqual([["a", "tunekit"], ["b", "tunekit"], ["support", "tunekit-experiment"]]);
    const error = (await client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "a" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect([error.status, error.code]).toEqual([404, "GATEWAY_MODEL_NOT_FOUND"]);
  });

  it("refuses a body over the size limit with 413", async () => {
    const up = await StubUpstream.start();
    const { client } = await setup({ maxBodyBytes: 1000, routes: [{ name: "base", baseUrl: up.url }] }, [up]);
    const error = (await client.chat.completions.create({ model: "base", messages: [{ role: "user", content: "x".repeat(2000) }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect([error.status, error.code]).toEqual([413, "HTTP_BODY_TOO_LARGE"]);
    expect(up.received.length).toBe(0);
  });

  it("reports every gateway config problem at once", async () => {
    await expect(
      startTestGateway({ routes: [{ name: "a", backend: "openai", fallback: "zz" }, { name: "a", backend: "local" }], experiments: [{ name: "e", model: "m", variants: [{ route: "q" }] }] }),
    ).rejects.toMatchObject({
      code: "GATEWAY_CONFIG_INVALID",
      details: {
        problems: [
          "gateway.routes[0].baseUrl: missing for backend openai — set the upstream URL, e.g. http://127.0.0.1:8000/v1",
          'gateway.routes[1].name: "a" is used twice — give each route its own name',
          "gateway.routes[1].modelDir: missing for backend local — set the model folder",
          'gateway.routes[0].fallback: "zz" is not a route — use one of a',
          'gateway.experiments[0].variants[0].route: "q" is not a route — use one of a',
        ],
      },
    });
  });
});
