import OpenAI from "openai";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openPostgresLogStore } from "./postgres-store.js";
import { startTestGateway } from "./testing/gateway-fixture.js";
import { StubUpstream } from "./testing/stub-upstream.js";

const URL_ = process.env.TUNEKIT_TEST_POSTGRES_URL;
if (!URL_) {
  console.warn(
    "\n!!! SKIPPING PostgreSQL gateway tests: TUNEKIT_TEST_POSTGRES_URL is not set.\n!!! Start one with: export TUNEKIT_TEST_POSTGRES_URL=$(scripts/start-postgres.sh)\n",
  );
}
const schema = `tk_test_${process.pid}_${Date.now()}`;
// The store itself (batches, feedback, retention) is tested on both backends in log-store.test.ts.

describe.skipIf(!URL_)("PostgreSQL request log", () => {
  afterAll(async () => {
    const client = new pg.Client({ connectionString: URL_ });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it("opens a schema built by the old hand-written DDL, keeps its rows, and marks it migrated", async () => {
    const oldSchema = `${schema}_old`;
    const c = new pg.Client({ connectionString: URL_ });
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA ${oldSchema}; SET search_path = ${oldSchema};
        CREATE TABLE requests (id TEXT PRIMARY KEY, ts BIGINT, model TEXT, variant TEXT, experiment TEXT, backend TEXT, status BIGINT, error_code TEXT,
          stream BIGINT, latency_ms DOUBLE PRECISION, ttft_ms DOUBLE PRECISION, attempts BIGINT, prompt_tokens BIGINT, completion_tokens BIGINT,
          cost_usd DOUBLE PRECISION, key_id TEXT, user_key TEXT, input TEXT, output TEXT, finish_reason TEXT);
        CREATE INDEX requests_ts ON requests (ts);
        CREATE INDEX requests_variant_ts ON requests (variant, ts);
        CREATE TABLE feedback (id BIGSERIAL PRIMARY KEY, request_id TEXT NOT NULL, ts BIGINT NOT NULL, score DOUBLE PRECISION, label TEXT, correction TEXT, comment TEXT);
        CREATE INDEX feedback_request ON feedback (request_id);
        INSERT INTO requests (id, ts, model, status, stream, latency_ms, attempts) VALUES ('old-1', 42, 'm', 200, 0, 5.5, 1);`);
      const store = await openPostgresLogStore(URL_!, { schema: oldSchema });
      try {
        expect(await store.getRequest("old-1")).toMatchObject({ id: "old-1", ts: 42, status: 200, latencyMs: 5.5 });
        const fb = await store.insertFeedback({ requestId: "old-1", score: 1 }, 50);
        expect(fb.id).toBe(1);
        const migrated = await c.query(`SELECT name FROM ${oldSchema}.gateway_log_migration`);
        expect(migrated.rows).toEqual([{ name: "0001_requests_feedback" }]);
      } finally {
        await store.close();
      }
    } finally {
      await c.query(`DROP SCHEMA IF EXISTS ${oldSchema} CASCADE`);
      await c.end();
    }
  });

  it("logs gateway requests into PostgreSQL through the same pipeline", async () => {
    const up = await StubUpstream.start();
    const store = await openPostgresLogStore(URL_!, { schema: `${schema}_gw` });
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
