import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { assignVariant } from "./experiments.js";
import { startTestGateway } from "./testing/gateway-fixture.js";
import { StubUpstream } from "./testing/stub-upstream.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const experiment = { name: "ft-vs-base", variants: [{ route: "base", weight: 50 }, { route: "ft", weight: 30 }, { route: "prompt", weight: 20 }] };

describe("sticky assignment", () => {
  it("maps keys to variants by hash: a fixed table, the same in every process", () => {
    const table = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`user-${i}`, assignVariant(experiment, `user-${i}`)]));
    expect(table).toEqual({
      "user-0": "base", "user-1": "base", "user-2": "ft", "user-3": "base", "user-4": "base", "user-5": "base",
      "user-6": "ft", "user-7": "ft", "user-8": "ft", "user-9": "base", "user-10": "base", "user-11": "prompt",
    });
  });

  it("splits traffic by weight", () => {
    const counts: Record<string, number> = { base: 0, ft: 0, prompt: 0 };
    for (let i = 0; i < 30_000; i++) counts[assignVariant(experiment, `u${i}`)] += 1;
    expect(counts).toEqual({ base: 14929, ft: 8893, prompt: 6178 });
    expect(Math.abs(counts.base / 30_000 - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(counts.ft / 30_000 - 0.3)).toBeLessThan(0.01);
  });

  it("a zero weight gets no traffic", () => {
    const e = { name: "x", variants: [{ route: "a", weight: 0 }, { route: "b", weight: 1 }] };
    expect(new Set(Array.from({ length: 500 }, (_, i) => assignVariant(e, String(i))))).toEqual(new Set(["b"]));
  });
});

async function setup(config: Record<string, unknown>, stubs: StubUpstream[]) {
  const t = await startTestGateway({ logging: { durability: "write", flushMs: 20 }, ...config });
  cleanups.push(async () => {
    await t.stop();
    for (const s of stubs) await s.close();
  });
  return t;
}

describe("experiments through the gateway", () => {
  it("assigns sticky variants per user, and start/promote/rollback through the admin API", async () => {
    const a = await StubUpstream.start({ reply: "A" });
    const b = await StubUpstream.start({ reply: "B" });
    const { gateway } = await setup(
      {
        routes: [{ name: "base", baseUrl: a.url }, { name: "ft", baseUrl: b.url }],
        experiments: [{ name: "ft-vs-base", model: "support", variants: [{ route: "base", weight: 1 }, { route: "ft", weight: 1 }] }],
      },
      [a, b],
    );
    const admin = gateway.keys.create({ name: "ops", scopes: ["serve", "admin"] }).key;
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: admin, maxRetries: 0 });
    const ask = async (user: string) => {
      const { data, response } = await client.chat.completions.create({ model: "support", user, messages: [{ role: "user", content: "q" }] }).withResponse();
      return [response.headers.get("x-tunekit-variant"), data.choices[0].message.content];
    };
    // draft: everything goes to the control
    expect(await ask("user-2")).toEqual(["base", "A"]);
    const post = (path: string, body: unknown = {}) =>
      fetch(`${gateway.url}/v1/admin/experiments/${path}`, { method: "POST", headers: { authorization: `Bearer ${admin}` }, body: JSON.stringify(body) });
    expect((await post("ft-vs-base/start")).status).toBe(200);
    const users = Array.from({ length: 8 }, (_, i) => `user-${i}`);
    const first = await Promise.all(users.map(ask));
    const again = await Promise.all(users.map(ask));
    expect(again).toEqual(first);
    expect(first.map((x) => x[0])).toEqual(users.map((u) => assignVariant({ name: "ft-vs-base", variants: [{ route: "base", weight: 1 }, { route: "ft", weight: 1 }] }, u)));
    expect(new Set(first.map((x) => x[0]))).toEqual(new Set(["base", "ft"]));
    const promoted = await post("ft-vs-base/promote", { variant: "ft" });
    expect((await promoted.json()).experiment).toMatchObject({ name: "ft-vs-base", status: "promoted", winner: "ft" });
    expect(new Set((await Promise.all(users.map(ask))).map((x) => x[0]))).toEqual(new Set(["ft"]));
    await post("ft-vs-base/rollback");
    expect(new Set((await Promise.all(users.map(ask))).map((x) => x[0]))).toEqual(new Set(["base"]));
    const conflict = await post("ft-vs-base/stop");
    expect([conflict.status, (await conflict.json()).error.code]).toEqual([409, "GATEWAY_EXPERIMENT_STATE"]);
    expect(gateway.experiments.history("ft-vs-base").map((h) => [h.action, h.status, h.winner])).toEqual([
      ["start", "running", null],
      ["promote", "promoted", "ft"],
      ["rollback", "rolled_back", "base"],
    ]);
  });
});

describe("security", () => {
  it("requires a key, checks scopes, and rate-limits per key with 429 and Retry-After", async () => {
    const up = await StubUpstream.start();
    const { gateway } = await setup({ routes: [{ name: "base", baseUrl: up.url }] }, [up]);
    const serveKey = gateway.keys.create({ name: "app", scopes: ["serve"], requestsPerMinute: 60, burst: 2 }).key;
    const chat = (key?: string) =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ model: "base", messages: [{ role: "user", content: "x" }] }),
      });
    const codes = async (r: Response) => [r.status, ((await r.json()) as { error?: { code: string } }).error?.code ?? null];
    expect(await codes(await chat())).toEqual([401, "GATEWAY_AUTH_MISSING"]);
    expect(await codes(await chat(`${serveKey}x`))).toEqual([401, "GATEWAY_AUTH_INVALID"]);
    expect(await codes(await chat(serveKey))).toEqual([200, null]);
    expect(await codes(await chat(serveKey))).toEqual([200, null]);
    const limited = await chat(serveKey);
    expect(limited.headers.get("retry-after")).toBe("1");
    expect(await codes(limited)).toEqual([429, "GATEWAY_RATE_LIMITED"]);
    const metrics = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${serveKey}` } });
    expect(await codes(metrics)).toEqual([401, "GATEWAY_AUTH_SCOPE"]);
    // stored: salted hash only, never the secret
    const rows = gateway.db.prepare("SELECT * FROM api_keys").all() as { hash: string; salt: string }[];
    expect(JSON.stringify(rows)).not.toContain(serveKey.split(".")[1]);
    expect(rows[0].hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("logging and metrics", () => {
  it("writes batches to SQLite, redacts PII before anything reaches disk, and exposes Prometheus metrics", async () => {
    const up = await StubUpstream.start({ reply: "mail bob@example.com or call +1 415 555 0199" });
    const { gateway } = await setup({ auth: { required: false }, logging: { durability: "fsync", flushMs: 10_000, batchSize: 3, redactPii: true }, routes: [{ name: "base", baseUrl: up.url }] }, [up]);
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "x", maxRetries: 0 });
    for (let i = 0; i < 2; i++) await client.chat.completions.create({ model: "base", messages: [{ role: "user", content: `I am alice@corp.io, card 4111 1111 1111 1111 #${i}` }] });
    // below the batch size and before the flush interval: queued (and in the write-ahead log), not yet in the DB
    expect(await gateway.store.countRequests()).toBe(0);
    const segmentDir = gateway.pipeline.segmentDir!;
    const wal = readdirSync(segmentDir).filter((f) => f.startsWith("segment-")).map((f) => readFileSync(join(segmentDir, f), "utf8")).join("");
    expect(wal.split("\n").filter(Boolean).length).toBe(2);
    expect(wal).not.toMatch(/alice@corp\.io|4111 1111|bob@example/);
    await client.chat.completions.create({ model: "base", messages: [{ role: "user", content: "third" }] });
    await new Promise((r) => setTimeout(r, 50));
    expect(await gateway.store.countRequests()).toBe(3); // the third filled a batch
    const rows = await gateway.store.listRequests();
    expect(rows.map((r) => [r.input, r.output])).toEqual([
      ['[{"role":"user","content":"I am <EMAIL_1>, card <CREDIT_CARD_1> #0"}]', "mail <EMAIL_1> or call <PHONE_1>"],
      ['[{"role":"user","content":"I am <EMAIL_1>, card <CREDIT_CARD_1> #1"}]', "mail <EMAIL_1> or call <PHONE_1>"],
      ['[{"role":"user","content":"third"}]', "mail <EMAIL_1> or call <PHONE_1>"],
    ]);
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(text).toContain('tunekit_gateway_requests_total{model="base",variant="base",status="200"} 3');
    expect(text).toContain("# TYPE tunekit_gateway_request_duration_seconds histogram");
    expect(text).toMatch(/tunekit_gateway_request_duration_seconds_bucket\{variant="base",le="\+Inf"\} 3\n/);
    expect(text).toContain('tunekit_gateway_tokens_total{variant="base",type="prompt"} 30');
    for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$/);
  });
});
