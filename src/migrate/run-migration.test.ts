import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readVersion } from "../data/index.js";
import { ExperimentStore, openGatewayStores, type RequestRecord } from "../gateway/index.js";
import { openWorkspace, type Workspace } from "../registry/index.js";
import { STORIES260K } from "../test-support/paths.js";
import { promoteCandidate } from "./promote.js";
import { runMigration, type MigrateReporter, type MigrationResult } from "./run-migration.js";
import { API_KEY, KEY_ENV, createMigrateWorkspace, startHostedJob, type HostedJobFixture } from "./testing/migrate-fixtures.js";

// `tunekit migrate` end to end: the fixture OpenAI server holds a succeeded job (files, hyperparameters, the
// fine-tuned model answering each question exactly), the gateway log holds answers of that model, and the
// replacement is a LoRA on the real stories260k trained for 2 steps on the CPU. A 2-step adapter is far
// worse than a model answering every question exactly, so the verdict is "inferior" and promote refuses.
let hosted: HostedJobFixture;
let dir: string;
let result: MigrationResult;
const lines: string[] = [];
const reporter: MigrateReporter = { step: (step, state, detail) => lines.push(`${state} ${step}: ${detail}`), line: (t) => lines.push(t) };
const base = () => ({ jobId: hosted.jobId, to: STORIES260K, baseURL: hosted.baseURL, apiKeyEnv: KEY_ENV, maxSteps: 2, seqLen: 64, maxTokens: 8, resamples: 200, name: "acme" });
const withWs = async <T>(fn: (ws: Workspace) => Promise<T>): Promise<T> => {
  const ws = await openWorkspace({ dir });
  try {
    return await fn(ws);
  } finally {
    await ws.close();
  }
};

const logged = (id: string, model: string, question: string, output: string, extra: Partial<RequestRecord> = {}): RequestRecord => ({
  id, ts: 1_733_000_000_000, model, variant: model, experiment: null, backend: "openai", status: 200, errorCode: null, stream: false, latencyMs: 100, ttftMs: null, attempts: 1,
  promptTokens: 5, completionTokens: 5, costUsd: null, keyId: null, userKey: null, input: JSON.stringify([{ role: "user", content: question }]), output, finishReason: "stop", ...extra,
});

beforeAll(async () => {
  process.env[KEY_ENV] = API_KEY;
  hosted = await startHostedJob();
  dir = await createMigrateWorkspace();
  await withWs(async (ws) => {
    const stores = await openGatewayStores(ws.config.gateway, ws.stateDir);
    const ft = hosted.fineTunedModel;
    await stores.store.insertRequests([
      logged("req-1", ft, "How do I reach support for my order?", "Write to help@brightleaf.example and we answer within a day."),
      logged("req-2", ft, "Which days is the shop open?", "The shop is open from Monday to Saturday."),
      logged("req-3", ft, "Which days is the shop open?", "The shop is open from Monday to Saturday."),
      logged("req-4", ft, hosted.validation[0].question, hosted.validation[0].answer),
      logged("req-5", ft, "Is it raining?", "", { status: 502, errorCode: "upstream_error", output: null }),
      logged("req-6", "gpt-4o", "Hello?", "Hi there."),
      logged("req-7", ft, "Tell me everything about shipping", "Shipping takes", { finishReason: "length" }),
    ]);
    await stores.close();
  });
}, 60_000);

afterAll(async () => {
  await hosted?.fixture.server.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("runMigration", () => {
  it("produces a dataset version, a local run, an eval with the verdict and an experiment", async () => {
    result = await withWs((ws) => runMigration(ws, { ...base(), distillFromLogs: hosted.fineTunedModel }, reporter));
    expect(result.steps).toEqual([
      { step: "job", status: "done" }, { step: "import", status: "done" }, { step: "distill", status: "done" },
      { step: "train", status: "done" }, { step: "compare", status: "done" }, { step: "experiment", status: "done" },
    ]);
    expect(result.distill).toEqual({ model: hosted.fineTunedModel, logged: 7, candidates: 4, skipped: { otherModel: 1, failed: 1, noContent: 0, truncated: 1 }, piiFindings: 1, duplicatesRemoved: 1, leakedDropped: 1 });
    expect(result.verdict?.outcome).toBe("inferior");
    expect(lines.filter((l) => /^(run|skip|plan) /.test(l)).map((l) => l.slice(0, l.indexOf(":")))).toEqual(["run job", "run import", "run distill", "run train", "run compare", "run experiment"]);
    expect(lines.find((l) => l.startsWith("run import:"))).toBe("run import: acme@1 (12 train) → acme@2 (+ test)");
    expect(result.cutover).toBe(`tunekit model promote --eval ${result.evalRunId} --candidate acme-new --reference acme-old --margin 0.02 --metric token_f1 --experiment acme`);
  }, 300_000);

  it("records every step with lineage: job → versions → run → model → eval → experiment", async () => {
    await withWs(async (ws) => {
      const versions = await ws.registry.listDatasetVersions((await ws.registry.getDataset("acme")).id);
      expect(versions.map((v) => [v.number, v.transform, v.recordCount, v.parentId])).toEqual([
        [1, "import", 12, null], [2, "import-validation", 18, versions[0].id], [3, "distill", 22, versions[1].id], [4, "leakage", 21, versions[2].id], [5, "dedupe", 20, versions[3].id],
      ]);
      const [training, trainFileId] = [versions[0].params, hosted.fixture.jobs.get(hosted.jobId)!.training_file];
      expect(training).toEqual({ source: "openai", jobId: hosted.jobId, fileId: trainFileId, role: "training_file", baseModel: "gpt-4o-mini-2024-07-18", fineTunedModel: hosted.fineTunedModel });
      const trainRun = await ws.registry.getRun(result.trainRunId!);
      expect([trainRun.kind, trainRun.status, trainRun.backend, trainRun.datasetVersionId]).toEqual(["train", "succeeded", "local", versions[4].id]);
      // The job's hyperparameters, mapped: n_epochs 2 → epochs, batch_size 4, lr 2e-4 × multiplier 2.
      expect([trainRun.config.epochs, trainRun.config.batchSize, (trainRun.config.optimizer as { lr: number }).lr, trainRun.config.seed]).toEqual([2, 4, 4e-4, 7]);
      const model = await ws.registry.getModel(result.model!.name);
      expect([model.kind, model.runId, model.datasetVersionId, model.path]).toEqual(["fine_tuned", trainRun.id, versions[4].id, result.model!.adapterDir]);
      const evalRun = await ws.registry.getRun(result.evalRunId!);
      expect([evalRun.kind, evalRun.status]).toEqual(["eval", "succeeded"]);
      const migration = await ws.registry.getRun(result.runId!);
      expect([migration.kind, migration.status, migration.datasetVersionId, migration.modelId]).toEqual(["migration", "succeeded", versions[4].id, model.id]);
      expect(result.lineage).toEqual([
        { kind: "openai-job", id: hosted.jobId, label: hosted.fineTunedModel },
        { kind: "dataset-version", id: versions[0].id, label: "acme@1" },
        { kind: "dataset-version", id: versions[1].id, label: "acme@2" },
        { kind: "dataset-version", id: versions[4].id, label: "acme@5" },
        { kind: "train-run", id: trainRun.id, label: "acme-lora" },
        { kind: "model", id: model.id, label: model.name },
        { kind: "eval-run", id: evalRun.id, label: "inferior" },
        { kind: "experiment", id: "acme", label: "acme-old / acme-new" },
      ]);
      expect(migration.result).toEqual(JSON.parse(JSON.stringify(result)));
      const steps = await ws.registry.listRunEvents(migration.id, { type: "log", name: "step" });
      expect(steps.map((e) => e.data?.step)).toEqual(["job", "import", "distill", "train", "compare", "experiment"]);
    });
  });

  it("redacts PII in distilled answers and drops the one copying a test record", async () => {
    await withWs(async (ws) => {
      const fromLogs = [];
      for await (const r of readVersion(ws, "acme@5")) if (r.metadata?.source === "gateway-log") fromLogs.push(r);
      expect(fromLogs).toEqual([
        { messages: [{ role: "user", content: "How do I reach support for my order?" }, { role: "assistant", content: "Write to <EMAIL_1> and we answer within a day." }], metadata: { split: "train", source: "gateway-log", request_id: "req-1", model: hosted.fineTunedModel, variant: hosted.fineTunedModel } },
        { messages: [{ role: "user", content: "Which days is the shop open?" }, { role: "assistant", content: "The shop is open from Monday to Saturday." }], metadata: { split: "train", source: "gateway-log", request_id: "req-2", model: hosted.fineTunedModel, variant: hosted.fineTunedModel } },
      ]);
    });
  });

  it("writes the experiment where `tunekit experiments` reads it, keeping the rest of tunekit.yaml", async () => {
    expect(readFileSync(join(dir, "tunekit.yaml"), "utf8").startsWith("# my project\n")).toBe(true);
    await withWs(async (ws) => {
      const stores = await openGatewayStores(ws.config.gateway, ws.stateDir);
      try {
        expect(new ExperimentStore(stores.db, ws.config.gateway.experiments).list()).toEqual([
          { name: "acme", status: "draft", winner: null, updatedAt: 0, model: hosted.fineTunedModel, variants: [{ route: "acme-old", weight: 0.9 }, { route: "acme-new", weight: 0.1 }] },
        ]);
        expect(ws.config.gateway.routes.map((r) => [r.name, r.backend, r.baseUrl ?? r.modelDir, r.model ?? r.adapterDir, r.apiKeyEnv ?? null])).toEqual([
          ["acme-old", "openai", hosted.baseURL, hosted.fineTunedModel, KEY_ENV],
          ["acme-new", "local", STORIES260K, result.model!.adapterDir, null],
        ]);
      } finally {
        await stores.close();
      }
    });
  });

  it("skips every finished step on a re-run", async () => {
    lines.length = 0;
    const again = await withWs((ws) => runMigration(ws, { ...base(), distillFromLogs: hosted.fineTunedModel }, reporter));
    expect(lines).toEqual(["skip job: finished earlier", "skip import: finished earlier", "skip distill: finished earlier", "skip train: finished earlier", "skip compare: finished earlier", "skip experiment: finished earlier"]);
    expect(again).toEqual({ ...JSON.parse(JSON.stringify(result)), steps: result.steps.map((s) => ({ ...s, status: "skipped" })) });
    expect(await withWs((ws) => ws.registry.listRuns({ kind: "train" }))).toHaveLength(1);
  });

  it("refuses the cutover: the replacement is significantly worse (PROMOTE_REFUSED)", async () => {
    await withWs(async (ws) => {
      await expect(promoteCandidate(ws, { evalRunId: result.evalRunId!, candidate: "acme-new", reference: "acme-old", margin: 0.02, experiment: "acme" })).rejects.toMatchObject({ code: "PROMOTE_REFUSED" });
      const events = await ws.registry.listRunEvents(result.evalRunId!, { name: "promote" });
      expect(events.map((e) => [e.data?.outcome, e.data?.promoted])).toEqual([["inferior", false]]);
    });
  });
});
