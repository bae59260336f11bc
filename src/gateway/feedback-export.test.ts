import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { readVersion } from "../data/index.js";
import { initWorkspace, openWorkspace } from "../registry/index.js";
import { exportFailures } from "./feedback-export.js";
import { startTestGateway } from "./testing/gateway-fixture.js";
import { StubUpstream } from "./testing/stub-upstream.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe("feedback", () => {
  it("takes POST /v1/feedback and exports failures as a dataset version with corrections as targets", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tunekit-fb-"));
    await initWorkspace(dir);
    const ws = await openWorkspace({ dir, env: {} });
    const up = await StubUpstream.start({ reply: "wrong answer" });
    const t = await startTestGateway({ auth: { required: false }, logging: { durability: "write", flushMs: 20 }, routes: [{ name: "ft", baseUrl: up.url }] }, { stateDir: ws.stateDir });
    cleanups.push(async () => {
      await t.stop();
      await up.close();
      await ws.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const client = new OpenAI({ baseURL: `${t.gateway.url}/v1`, apiKey: "x", maxRetries: 0 });
    const ids: string[] = [];
    for (const q of ["reset my card", "open hours?", "close account"]) {
      const { response } = await client.chat.completions.create({ model: "ft", messages: [{ role: "user", content: q }] }).withResponse();
      ids.push(response.headers.get("x-tunekit-request-id")!);
    }
    const feedback = (body: unknown) => fetch(`${t.gateway.url}/v1/feedback`, { method: "POST", body: JSON.stringify(body) });
    const ok = await feedback({ request_id: ids[0], score: 0, correction: "Go to Cards > Reset PIN." });
    expect([ok.status, await ok.json()]).toEqual([201, { id: 1, request_id: ids[0], variant: "ft" }]);
    expect((await feedback({ request_id: ids[1], score: 1 })).status).toBe(201);
    expect((await feedback({ request_id: ids[2], label: "wrong", comment: "should escalate" })).status).toBe(201);
    const missing = await feedback({ request_id: "req-nope", score: 1 });
    expect([missing.status, (await missing.json()).error.code]).toEqual([404, "GATEWAY_REQUEST_NOT_FOUND"]);
    const empty = await feedback({ request_id: ids[0] });
    expect([empty.status, (await empty.json()).error.code]).toEqual([400, "GATEWAY_BAD_FEEDBACK"]);

    const result = await exportFailures(ws, t.gateway.store, { dataset: "support-failures", since: Date.now() - 7 * 86_400_000 });
    expect([result.corrected, result.needsReview, result.version.recordCount, result.version.number]).toEqual([1, 1, 2, 1]);
    const records = [];
    for await (const r of readVersion(ws, result.version)) records.push(r);
    expect(records).toEqual([
      {
        messages: [{ role: "user", content: "reset my card" }, { role: "assistant", content: "Go to Cards > Reset PIN." }],
        metadata: { source: "gateway-feedback", request_id: ids[0], variant: "ft", model: "ft", score: 0, label: null, comment: null, corrected: true, needs_review: false, original_output: "wrong answer" },
      },
      {
        messages: [{ role: "user", content: "close account" }, { role: "assistant", content: "wrong answer", weight: 0 }],
        metadata: { source: "gateway-feedback", request_id: ids[2], variant: "ft", model: "ft", score: null, label: "wrong", comment: "should escalate", corrected: false, needs_review: true },
      },
    ]);
    const again = await exportFailures(ws, t.gateway.store, { dataset: "support-failures" });
    expect([again.version.number, again.version.parentId]).toEqual([2, result.version.id]);
  });
});
