import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromArray } from "../data/testing/temp-workspace.js";
import { commitVersion } from "../data/index.js";
import { planHostedRun, planWorkDir, submitHostedRun, HostedOptionsSchema } from "../providers/index.js";
import { createOpenAiFixture } from "../providers/openai/fixtures/openai-api.js";
import { seedWorkspace, STORIES_MODEL, type SeededWorkspace } from "./testing/seed-workspace.js";
import { startUiServer, type UiServer } from "./server.js";

let seed: SeededWorkspace;
let server: UiServer;
const get = async (path: string, init?: RequestInit) => {
  const res = await fetch(new URL(path, server.url), init);
  return { status: res.status, body: (await res.json()) as any };
};
const post = async (path: string, body: unknown) => {
  const { sessionToken } = (await get("/api/session")).body;
  return get(path, { method: "POST", headers: { "content-type": "application/json", "x-tunekit-session": sessionToken }, body: JSON.stringify(body) });
};

beforeAll(async () => {
  seed = await seedWorkspace({ rows: 600 });
  server = await startUiServer({ ws: seed.ws });
});
afterAll(async () => {
  await server?.close();
  await seed?.ws.close();
});

describe("dashboard API", () => {
  it("lists datasets with versions and their lineage", async () => {
    const { body } = await get("/api/datasets/banking77");
    expect(body.versions.map((v: any) => [v.number, v.transform, v.recordCount])).toEqual([[1, "import", 600], [2, "split", 600]]);
    const edges = body.lineage.edges.map((e: any) => e.label).sort();
    expect(edges).toEqual(["eval", "model", "split", "train", "train"]);
  });

  it("browses records with search, metadata filters and facets", async () => {
    const { body } = await get("/api/versions/banking77@2/records?q=card&filter=split:test&limit=5");
    expect(body.total).toBe(600);
    expect(body.records.length).toBeLessThanOrEqual(5);
    for (const { record } of body.records) {
      expect(record.metadata.split).toBe("test");
      expect(JSON.stringify(record).toLowerCase()).toContain("card");
    }
    expect(body.facets.split.map((f: any) => f.value).sort()).toEqual(["test", "train", "val"]);
  });

  it("reports stats, PII findings without values, and the loss-mask preview", async () => {
    const stats = (await get("/api/versions/banking77@1/stats")).body.stats;
    expect(stats.records).toBe(600);
    expect(stats.tokenHistogram.reduce((n: number, b: any) => n + b.count, 0)).toBe(600);
    const pii = (await get("/api/versions/banking77@1/pii")).body;
    expect(pii.report.byType.EMAIL).toBe(7);
    expect(JSON.stringify(pii.findings)).not.toContain("example.com");
    const preview = await post("/api/versions/banking77@1/preview", { model: STORIES_MODEL, count: 2 });
    expect(preview.status).toBe(200);
    expect(preview.body.examples).toHaveLength(2);
    const first = preview.body.examples[0];
    const trained = first.segments.filter((s: any) => s.trained).map((s: any) => s.text).join("");
    const record = (await get("/api/versions/banking77@1/records?limit=1")).body.records[0].record;
    expect(trained).toContain(record.messages[1].content);
    expect(preview.body.examples[0].trainedTokens).toBeGreaterThan(0);
  });

  it("pages run events after an id and streams new ones over SSE", async () => {
    const first = (await get(`/api/runs/${seed.liveRun.id}/events?type=metric&name=train/loss`)).body;
    expect(first.events).toHaveLength(40);
    await seed.appendSteps(3);
    const next = (await get(`/api/runs/${seed.liveRun.id}/events?type=metric&name=train/loss&afterId=${first.lastId}`)).body;
    expect(next.events.map((e: any) => e.step)).toEqual([41, 42, 43]);

    const ctrl = new AbortController();
    const res = await fetch(new URL(`/api/runs/${seed.liveRun.id}/stream?type=metric&name=train/loss&afterId=${next.lastId}&intervalMs=100`, server.url), { signal: ctrl.signal });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    await seed.appendSteps(2);
    let text = "";
    while (!text.includes("event: events")) text += new TextDecoder().decode((await reader.read()).value);
    ctrl.abort();
    const data = JSON.parse(/event: events\ndata: (.*)\n/.exec(text)![1]);
    expect(data.map((e: any) => e.step)).toEqual([44, 45]);
  });

  it("compares two runs and cancels a run whose supervisor is gone", async () => {
    const cmp = (await get(`/api/compare?a=${seed.finishedRun.id}&b=${seed.liveRun.id}`)).body;
    expect(cmp.config.find((c: any) => c.key === "lora.r")).toEqual({ key: "lora.r", a: 8, b: 16, same: false });
    expect(cmp.metrics.find((m: any) => m.name === "train/loss").a.points).toBe(200);
    const cancelled = await post(`/api/runs/${seed.liveRun.id}/cancel`, {});
    expect(cancelled.body.run.status).toBe("cancelled");
    const again = await post(`/api/runs/${seed.finishedRun.id}/resume`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("TRAIN_NOT_RESUMABLE");
  });

  it("cancels a hosted run's provider job before marking the run, as `tunekit runs cancel` does", async () => {
    const KEY = "sk-test-dashboard-cancel-abcdefghijkl";
    const fixture = createOpenAiFixture({ apiKey: KEY });
    const url = await fixture.server.start();
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = KEY; // the dashboard's backend reads the key from the environment, like the CLI
    try {
      const chat = (i: number, split: string) => ({ messages: [{ role: "user" as const, content: `How do I reset PIN ${i}?` }, { role: "assistant" as const, content: `Open the app, card ${i}, Reset PIN.` }], metadata: { split } });
      await commitVersion(seed.ws, { dataset: "support-chat", transform: "import", params: {}, records: fromArray([...Array.from({ length: 12 }, (_, i) => chat(i, "train")), chat(99, "val")]) });
      const spec = { provider: "openai" as const, model: "gpt-4o-mini-2024-07-18", dataset: "support-chat", name: "hosted", epochs: 1, seed: 1, hosted: HostedOptionsSchema.parse({ openai: { baseURL: `${url}/v1` } }) };
      const plan = await planHostedRun(seed.ws, spec, { workDir: planWorkDir(seed.ws, "ui-cancel") });
      // a day OpenAI still takes jobs: after its 2027-01-06 cutoff submitHostedRun refuses (PROVIDER_SERVICE_CLOSED)
      const submitted = await submitHostedRun(seed.ws, plan, { env: { OPENAI_API_KEY: KEY }, maxRetries: 0 }, undefined, { now: new Date("2026-12-03") });
      const jobId = (submitted.result as { jobId: string }).jobId;
      expect(fixture.jobs.get(jobId)!.status).not.toBe("cancelled");

      const res = await post(`/api/runs/${submitted.id}/cancel`, {});
      expect([res.status, res.body.action, res.body.run.status, res.body.run.result.providerStatus]).toEqual([200, "hosted-cancelled", "cancelled", "cancelled"]);
      expect(fixture.jobs.get(jobId)!.status).toBe("cancelled");

      // Cancelling again is a no-op: the run is final and the provider is not asked again.
      const again = await post(`/api/runs/${submitted.id}/cancel`, {});
      expect([again.status, again.body.run.status]).toEqual([200, "cancelled"]);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
      await fixture.server.stop();
    }
  });

  it("serves eval candidates with CIs, example rows and advice", async () => {
    const detail = (await get(`/api/evals/${seed.evalRunId}`)).body;
    const [base, tuned] = detail.summary.candidates;
    expect(tuned.metrics.accuracy.value).toBeGreaterThan(base.metrics.accuracy.value);
    expect(tuned.metrics.accuracy.low).toBeLessThan(tuned.metrics.accuracy.value);
    const rows = (await get(`/api/evals/${seed.evalRunId}/examples?disagree=1&limit=3`)).body;
    expect(rows.rows).toHaveLength(3);
    for (const r of rows.rows) expect(r.candidates["base-prompted"].scores.accuracy).not.toBe(r.candidates["tuned-v1"].scores.accuracy);
    const advice = (await get(`/api/evals/${seed.evalRunId}/advice`)).body;
    expect(["keep-prompting", "add-retrieval", "fine-tune", "collect-data"]).toContain(advice.recommendation);
  });

  it("summarises experiments and monitoring from the gateway log", async () => {
    const exp = (await get("/api/experiments")).body.experiments[0];
    expect(exp.status).toBe("running");
    expect(exp.analysis.variants.map((v: any) => [v.variant, v.n])).toEqual([["base-prompted", 600], ["tuned-v1", 600]]);
    const mon = (await get("/api/monitoring?since=3d&bucket=6h")).body;
    expect(mon.requests).toBe(1200);
    expect(new Set(mon.windows.map((w: any) => w.variant))).toEqual(new Set(["base-prompted", "tuned-v1"]));
  });

  it("estimates costs from a form and rejects a bad one with every problem", async () => {
    const ok = await post("/api/cost/estimate", { trainingTokens: 500_000, candidates: [{ provider: "openai", model: "gpt-4o-mini-2024-07-18" }, { provider: "local", model: "local-8b", paramsB: 8 }] });
    expect(ok.body.estimates.map((e: any) => e.provider)).toEqual(["openai", "local"]);
    expect(ok.body.estimates[0].training.costUsd).toBeGreaterThan(0);
    const bad = await post("/api/cost/estimate", { trainingTokens: -1, candidates: [] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("UI_BODY_INVALID");
    expect(bad.body.error.message).toMatch(/trainingTokens.*candidates/);
  });

  it("answers unknown things through the error boundary", async () => {
    expect((await get("/api/runs/run_nope")).body.error.code).toBe("RUN_NOT_FOUND");
    expect((await get("/api/runs/run_nope")).status).toBe(404);
    expect((await get("/api/nothing")).status).toBe(404);
    expect((await get("/api/runs?kind=banana")).body.error.code).toBe("UI_QUERY_INVALID");
  });
});

describe("token auth", () => {
  it("requires the token beyond loopback and accepts header, cookie and query", async () => {
    const guarded = await startUiServer({ ws: seed.ws, requireToken: true, token: "s3cret-token-for-tests" });
    try {
      const url = (p: string) => new URL(p, guarded.url);
      const denied = await fetch(url("/api/datasets"));
      expect(denied.status).toBe(401);
      expect(JSON.stringify(await denied.json())).not.toContain("s3cret");
      expect((await fetch(url("/api/datasets"), { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      expect((await fetch(url("/api/datasets"), { headers: { authorization: "Bearer s3cret-token-for-tests" } })).status).toBe(200);
      expect((await fetch(url("/api/datasets"), { headers: { cookie: "tk_ui_token=s3cret-token-for-tests" } })).status).toBe(200);
      expect((await fetch(url("/api/datasets?token=s3cret-token-for-tests"))).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
