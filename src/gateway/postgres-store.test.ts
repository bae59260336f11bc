import OpenAI from "openai";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { PostgresLogStore } from "./postgres-store.js";
import type { RequestRecord } from "./records.js";
import { startTestGateway } from "./testing/gateway-fixture.js";
import { StubUpstream } from "./testing/stub-upstream.js";

const URL_ = process.env.TUNEKIT_TEST_POSTGRES_URL;
if (!URL_) {
  console.warn(
    "\n!!! SKIPPING PostgreSQL gateway tests: TUNEKIT_TEST_POSTGRES_URL is not set.\n!!! Start one with: export TUNEKIT_TEST_POSTGRES_URL=$(scripts/start-postgres.sh)\n",
  );
}
const schema = `tk_test_${process.pid}_${Date.now()}`;

const record = (id: string, ts: number, extra: Partial<RequestRecord> = {}): RequestRecord => ({
  id, ts, model: "m", variant: "a", experiment: null, backend: "a", status: 200, errorCode: null, stream: false, latencyMs: 12.5, ttftMs: 10,
  attempts: 1, promptTokens: 5, completionTokens: 7, costUsd: 0.0001, keyId: null, userKey: "u1", input: '[{"role":"user","content":"hi"}]', output: "yo", finishReason: "stop",
  ...extra,
});

describe.skipIf(!URL_)("PostgreSQL request log", () => {
  afterAll(async () => {
    const client = new pg.Client({ connectionString: URL_ });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it("stores batches idempotently, feedback, and applies retention", async () => {
    const store = await PostgresLogStore.open(URL_!, { schema });
    try {
      const rows = [record("r1", 1000), record("r2", 2000, { variant: "b", stream: true, ttftMs: null }), record("r3", 3000)];
      await store.insertRequests(rows);
      await store.insertRequests(rows.slice(0, 2)); // a replayed segment
      expect(await store.countRequests()).toBe(3);
      expect(await store.listRequests({ variant: "b" })).toEqual([rows[1]]);
      const fb = await store.insertFeedback({ requestId: "r1", score: 0, correction: "better" }, 5000);
      expect(fb).toEqual({ id: fb.id, requestId: "r1", ts: 5000, score: 0, label: null, correction: "better", comment: null });
      await expect(store.insertFeedback({ requestId: "zz", score: 1 }, 1)).rejects.toMatchObject({ code: "GATEWAY_REQUEST_NOT_FOUND" });
      expect(await store.applyRetention({ olderThan: 1500 })).toBe(1);
      expect(await store.applyRetention({ maxRecords: 1 })).toBe(1);
      expect((await store.listRequests()).map((r) => r.id)).toEqual(["r3"]);
      expect(await store.listFeedback()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("logs gateway requests into PostgreSQL through the same pipeline", async () => {
    const up = await StubUpstream.start();
    const store = await PostgresLogStore.open(URL_!, { schema: `${schema}_gw` });
    const t = await startTestGateway({ auth: { required: false }, logging: { backend: "postgres", url: URL_, durability: "fsync", flushMs: 20 }, routes: [{ name: "base", baseUrl: up.url }] }, { store });
    try {
      const client = new OpenAI({ baseURL: `${t.gateway.url}/v1`, apiKey: "x", maxRetries: 0 });
      const { response } = await client.chat.completions.create({ model: "base", messages: [{ role: "user", content: "pg?" }] }).withResponse();
      await t.gateway.pipeline.drain();
      const row = await store.getRequest(response.headers.get("x-tunekit-request-id")!);
      expect([row?.variant, row?.output, row?.status]).toEqual(["base", "echo: pg?", 200]);
    } finally {
      await t.stop();
      await up.close();
      const c = new pg.Client({ connectionString: URL_ });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema}_gw CASCADE`);
      await c.end();
    }
  });
});
