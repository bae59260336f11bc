import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTempWorkspace, fromArray } from "../data/testing/temp-workspace.js";
import { commitVersion } from "../data/index.js";
import { openWorkspace, type Workspace } from "../registry/index.js";
import { TunekitError } from "../errors/index.js";
import { planHostedRun, planWorkDir, type HostedJobSpec } from "./hosted-plan.js";
import { cancelHostedRun, submitHostedRun, watchHostedRun } from "./hosted-run.js";
import { createOpenAiFixture } from "./openai/fixtures/openai-api.js";
import { HostedOptionsSchema } from "./spec.js";

const KEY = "sk-test-hostedrun-abcdefghijklmnop";
/** A day when OpenAI still takes jobs from active organisations: submissions in these tests must not depend on the real clock. */
const OPEN = new Date("2026-12-03");
const fixture = createOpenAiFixture({ apiKey: KEY, pageSize: 3 });
const env = { OPENAI_API_KEY: KEY };
let ws: Workspace;
let spec: HostedJobSpec;

const record = (i: number, split: string) => ({
  messages: [{ role: "system" as const, content: "You are a bank support agent." }, { role: "user" as const, content: `How do I reset card PIN number ${i}?` }, { role: "assistant" as const, content: `Open the app, choose card ${i}, then Reset PIN.` }],
  metadata: { split },
});

beforeAll(async () => {
  const url = await fixture.server.start();
  ws = await createTempWorkspace();
  const records = [...Array.from({ length: 12 }, (_, i) => record(i, "train")), ...Array.from({ length: 3 }, (_, i) => record(100 + i, "val"))];
  await commitVersion(ws, { dataset: "support", transform: "import", params: {}, records: fromArray(records) });
  spec = { provider: "openai", model: "gpt-4o-mini-2024-07-18", dataset: "support", name: "support-bot", epochs: 2, seed: 1, hosted: HostedOptionsSchema.parse({ openai: { baseURL: `${url}/v1`, suffix: "bank" } }) };
});
afterAll(async () => {
  await ws.close();
  await fixture.server.stop();
});

describe("hosted runs: plan, submit, durable watch", () => {
  it("exports and validates for the target, counts tokens and estimates cost before upload", async () => {
    const plan = await planHostedRun(ws, spec, { workDir: planWorkDir(ws, "t1"), today: new Date("2026-11-28") });
    expect(plan.export).toEqual({ target: "openai", exported: 15, skipped: 0, skippedByCode: {} });
    expect(readFileSync(plan.files.training, "utf8").trim().split("\n")).toHaveLength(12);
    expect(plan.files.validation).toMatch(/-val\.jsonl$/);
    expect(plan.tokens.encoding).toBe("o200k_base");
    expect(plan.tokens.training).toBeGreaterThan(12 * 20);
    expect(plan.epochs).toBe(2);
    expect(plan.estimate?.training).toEqual({ perMTok: 3, costUsd: Math.round(plan.tokens.training * 2 * 3 / 1e6 * 1e4) / 1e4 });
    // 2026-11-28: OpenAI's wind-down is under way (two stages in force) and gpt-4o-mini retires 2027-01-14
    expect(plan.closure).toMatchObject({ closesOn: "2027-01-06", daysLeft: 39, closed: false });
    expect(plan.retirement).toMatchObject({ retiresOn: "2027-01-14", daysLeft: 47 });
    expect(plan.warnings.map((w) => w.split(" (")[0])).toEqual([
      "OpenAI self-serve fine-tuning",
      "base model gpt-4o-mini-2024-07-18 retires on 2027-01-14",
    ]);
    expect(plan.warnings[0]).toContain("closes to every customer on 2027-01-06 (in 39 days)");
    expect(plan.warnings.every((w) => w.includes("`tunekit migrate`"))).toBe(true);
  });

  it("refuses to submit after the job-creation cutoff, before any upload and without a run", async () => {
    const plan = await planHostedRun(ws, spec, { workDir: planWorkDir(ws, "t-closed"), today: new Date("2027-01-07") });
    expect(plan.warnings.at(-1)).toBe("submitting will be refused: OpenAI self-serve fine-tuning (creating new jobs) closed on 2027-01-06; pass --allow-closed-provider only if your organisation still has access");
    const filesBefore = fixture.files.size;
    const runsBefore = (await ws.registry.listRuns({})).length;
    let caught: unknown;
    try {
      await submitHostedRun(ws, plan, { env, maxRetries: 0 }, undefined, { now: new Date("2027-01-07") });
    } catch (error) {
      caught = error;
    }
    const e = caught as TunekitError;
    expect(e).toBeInstanceOf(TunekitError);
    expect({ code: e.code, kind: e.kind, message: e.message, details: e.details }).toEqual({
      code: "PROVIDER_SERVICE_CLOSED",
      kind: "provider",
      message: "OpenAI self-serve fine-tuning (creating new jobs) closed to new jobs on 2027-01-06 (source: https://platform.openai.com/docs/deprecations); nothing was uploaded",
      details: { provider: "openai", closesOn: "2027-01-06", source: "https://platform.openai.com/docs/deprecations" },
    });
    expect(e.fix).toContain("`tunekit migrate`");
    expect(e.fix).toContain("--allow-closed-provider");
    expect([fixture.files.size, (await ws.registry.listRuns({})).length]).toEqual([filesBefore, runsBefore]);
  });

  it("submits after the cutoff when --allow-closed-provider says the organisation still has access", async () => {
    const plan = await planHostedRun(ws, spec, { workDir: planWorkDir(ws, "t-allow"), today: new Date("2027-01-07") });
    const run = await submitHostedRun(ws, plan, { env, maxRetries: 0 }, undefined, { now: new Date("2027-01-07"), allowClosedProvider: true });
    expect(run.status).toBe("running");
    expect((run.config as { plan: { allowClosedProvider?: boolean } }).plan.allowClosedProvider).toBe(true);
  });

  it("stores the job id, survives a killed watcher, and records outcome, metrics, checkpoints and the model", async () => {
    const plan = await planHostedRun(ws, spec, { workDir: planWorkDir(ws, "t2") });
    const submitted = await submitHostedRun(ws, plan, { env, maxRetries: 0 }, undefined, { now: OPEN });
    expect(submitted.status).toBe("running");
    expect(submitted.result).toMatchObject({ provider: "openai", jobId: expect.stringMatching(/^ftjob-/), cursor: null });
    expect(JSON.stringify(submitted.config)).not.toContain(KEY);

    // first watcher sees two polls then "dies"
    const partial = await watchHostedRun(ws, submitted.id, { intervalMs: 0, maxPolls: 2 }, { env, maxRetries: 0 });
    expect(partial.status).toBe("running");
    const seen = (await ws.registry.listRunEvents(submitted.id, {})).filter((e) => e.type === "log" || e.type === "progress").length;
    expect(seen).toBeGreaterThan(1);

    // a new process: reopen the workspace, pick the job up from the registry
    const ws2 = await openWorkspace({ dir: ws.root });
    try {
      const done = await watchHostedRun(ws2, submitted.id, { intervalMs: 0 }, { env, maxRetries: 0 });
      expect(done.status).toBe("succeeded");
      const jobId = (submitted.result as { jobId: string }).jobId;
      const trained = fixture.jobs.get(jobId)!.trained_tokens!;
      expect(done.costUsd).toBe(Math.round((trained / 1e6) * 3 * 1e4) / 1e4);
      expect(done.result).toMatchObject({
        resultModelId: "ft:gpt-4o-mini-2024-07-18:org-fixture:bank:abc123",
        hyperparameters: { n_epochs: 2, batch_size: 1, learning_rate_multiplier: 1.8 },
        trainedTokens: trained,
        billedCostUsd: null,
        costBasis: "trained tokens × catalog price",
      });
      const events = await ws2.registry.listRunEvents(submitted.id, {});
      const providerEventIds = events.filter((e) => e.type === "log" || e.type === "progress").map((e) => e.data?.id).filter(Boolean);
      expect(new Set(providerEventIds).size).toBe(providerEventIds.length); // nothing repeated across the two watchers
      expect(providerEventIds).toEqual(fixture.events.get(jobId)!.map((e) => e.id));
      expect(events.filter((e) => e.type === "metric" && e.name === "train/loss").map((e) => [e.step, e.value])).toEqual([[1, 2.5], [2, 1.25], [3, 0.75]]);
      expect(events.filter((e) => e.type === "checkpoint").map((e) => e.step)).toEqual([1, 2, 3]);
      const model = await ws2.registry.getModel(done.modelId!);
      expect(model).toMatchObject({ kind: "fine_tuned", provider: "openai", providerModelId: "ft:gpt-4o-mini-2024-07-18:org-fixture:bank:abc123", runId: submitted.id });
      // watching a finished run is a no-op
      expect((await watchHostedRun(ws2, submitted.id, { intervalMs: 0 }, { env })).status).toBe("succeeded");
    } finally {
      await ws2.close();
    }
  });

  it("marks the run failed with the provider's actionable error when submit is refused", async () => {
    const plan = await planHostedRun(ws, { ...spec, model: "gpt-3.5-turbo-0125" }, { workDir: planWorkDir(ws, "t3") });
    expect(plan.warnings[0]).toMatch(/no price for openai gpt-3.5-turbo-0125/);
    await expect(submitHostedRun(ws, plan, { env, maxRetries: 0 }, undefined, { now: OPEN })).rejects.toMatchObject({ code: "PROVIDER_UNSUPPORTED_MODEL" });
    const [run] = await ws.registry.listRuns({ status: "failed" });
    expect(run.error).toMatchObject({ code: "PROVIDER_UNSUPPORTED_MODEL" });
  });

  it("refuses a Bedrock plan without role and bucket, and warns about provisioned throughput", async () => {
    // Bedrock needs at least 32 training examples: the export refuses fewer (tested in src/data); give it 40.
    await commitVersion(ws, { dataset: "support-big", transform: "import", params: {}, records: fromArray(Array.from({ length: 40 }, (_, i) => record(i, "train"))) });
    const bedrock: HostedJobSpec = { ...spec, dataset: "support-big", provider: "bedrock", model: "anthropic.claude-3-haiku-20240307-v1:0:200k" };
    await expect(planHostedRun(ws, bedrock, { workDir: planWorkDir(ws, "t4") })).rejects.toMatchObject({ code: "PROVIDER_BEDROCK_SETTINGS_MISSING" });
    const ok = { ...bedrock, hosted: HostedOptionsSchema.parse({ bedrock: { roleArn: "arn:aws:iam::123456789012:role/R", s3Uri: "s3://ft-bucket/p/" } }) };
    const plan = await planHostedRun(ws, ok, { workDir: planWorkDir(ws, "t5"), today: new Date("2026-11-28") });
    expect(plan.warnings.some((w) => /Provisioned Throughput/.test(w))).toBe(true);
    expect(plan.warnings.some((w) => /was retired on 2026-04-19/.test(w))).toBe(true);
    expect(plan.tokens.estimate).toBe(true);
    // a Nova base exports Nova's format and is checked against Nova's hyperparameter ranges before anything else
    const nova = await planHostedRun(ws, { ...ok, model: "amazon.nova-micro-v1:0:128k" }, { workDir: planWorkDir(ws, "t6"), today: new Date("2026-11-28") });
    expect([nova.export.target, nova.epochs, JSON.parse(readFileSync(nova.files.training, "utf8").split("\n")[0]!).schemaVersion]).toEqual(["bedrock-nova", 2, "bedrock-conversation-2024"]);
    expect(nova.warnings.some((w) => w.startsWith("a customized Amazon Nova model is served on Provisioned Throughput"))).toBe(true);
    const tooMany = { ...ok, model: "amazon.nova-micro-v1:0:128k", hosted: HostedOptionsSchema.parse({ bedrock: { roleArn: "arn:aws:iam::123456789012:role/R", s3Uri: "s3://ft-bucket/p/", epochCount: 7 } }) };
    await expect(planHostedRun(ws, tooMany, { workDir: planWorkDir(ws, "t7") })).rejects.toMatchObject({ code: "PROVIDER_BEDROCK_SETTINGS_INVALID" });
  });

  it("cancels the provider's job, not only the registry row", async () => {
    const plan = await planHostedRun(ws, spec, { workDir: planWorkDir(ws, "t-cancel") });
    const submitted = await submitHostedRun(ws, plan, { env, maxRetries: 0 }, undefined, { now: OPEN });
    const cancelled = await cancelHostedRun(ws, submitted.id, { env, maxRetries: 0 });
    expect(cancelled.status).toBe("cancelled");
    const jobId = (submitted.result as { jobId: string }).jobId;
    const job = await fetch(`${fixture.server.url}/v1/fine_tuning/jobs/${jobId}`, { headers: { authorization: `Bearer ${KEY}` } }).then((r) => r.json());
    expect(job.status).toBe("cancelled");
  });
});
