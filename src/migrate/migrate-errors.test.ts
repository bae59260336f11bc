import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readVersion } from "../data/index.js";
import type { TunekitError } from "../errors/index.js";
import { openGatewayStores } from "../gateway/index.js";
import { currentOwner, openWorkspace, type Workspace } from "../registry/index.js";
import { STORIES260K } from "../test-support/paths.js";
import { distillFromLogs } from "./distill.js";
import { setupExperiment } from "./experiment.js";
import { importJobFiles, readHostedJob } from "./hosted-job.js";
import { parseMigrateOptions, runMigration, type MigrateReporter } from "./run-migration.js";
import { API_KEY, KEY_ENV, createMigrateWorkspace, qaPairs, startHostedJob, toJsonl, type HostedJobFixture } from "./testing/migrate-fixtures.js";

// One test per documented migrate error, against the fixture OpenAI server; none of them trains anything,
// and each checks that the registry holds nothing it did not hold before.
let hosted: HostedJobFixture;
const dirs: string[] = [];
const quiet: MigrateReporter = { step: () => undefined, line: () => undefined };
const access = () => ({ baseURL: hosted.baseURL, apiKeyEnv: KEY_ENV });
const withWs = async <T>(fn: (ws: Workspace, dir: string) => Promise<T>): Promise<T> => {
  const dir = await createMigrateWorkspace();
  dirs.push(dir);
  const ws = await openWorkspace({ dir });
  try {
    return await fn(ws, dir);
  } finally {
    await ws.close();
  }
};

beforeAll(async () => {
  process.env[KEY_ENV] = API_KEY;
  hosted = await startHostedJob();
}, 60_000);
afterAll(async () => {
  await hosted?.fixture.server.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("readHostedJob", () => {
  it("reads the job's files, model and resolved hyperparameters", async () => {
    const job = hosted.fixture.jobs.get(hosted.jobId)!;
    expect(await readHostedJob(access(), hosted.jobId)).toEqual({
      id: hosted.jobId, status: "succeeded", baseModel: "gpt-4o-mini-2024-07-18", fineTunedModel: hosted.fineTunedModel, trainingFile: job.training_file, validationFile: job.validation_file,
      method: "supervised", hyperparameters: { nEpochs: 2, batchSize: 4, learningRateMultiplier: 2 }, seed: 7, trainedTokens: job.trained_tokens,
    });
  });

  it("refuses what is not a job id (MIGRATE_BAD_JOB_ID)", async () => {
    await expect(readHostedJob(access(), "job-123")).rejects.toMatchObject({ code: "MIGRATE_BAD_JOB_ID" });
  });

  it("says when the job does not exist (MIGRATE_JOB_NOT_FOUND)", async () => {
    await expect(readHostedJob(access(), "ftjob-nope")).rejects.toMatchObject({ code: "MIGRATE_JOB_NOT_FOUND" });
  });

  it("refuses a job that has not succeeded (MIGRATE_JOB_NOT_SUCCEEDED)", async () => {
    const client = new OpenAI({ apiKey: API_KEY, baseURL: hosted.baseURL, maxRetries: 0 });
    const file = await client.files.create({ file: await toFile(Buffer.from(toJsonl(hosted.training)), "t.jsonl"), purpose: "fine-tune" });
    const job = await client.fineTuning.jobs.create({ model: "gpt-4o-mini-2024-07-18", training_file: file.id });
    await expect(readHostedJob(access(), job.id)).rejects.toMatchObject({ code: "MIGRATE_JOB_NOT_SUCCEEDED", details: { jobId: job.id, status: "queued" } });
  });

  it("needs the API key in the environment (PROVIDER_CREDENTIALS_MISSING)", async () => {
    await expect(readHostedJob({ ...access(), apiKeyEnv: "TK_MIGRATE_NO_SUCH_KEY" }, hosted.jobId)).rejects.toMatchObject({ code: "PROVIDER_CREDENTIALS_MISSING" });
  });
});

describe("parseMigrateOptions", () => {
  it("reports every bad option at once, named as its flag (MIGRATE_BAD_OPTIONS)", () => {
    expect(() => parseMigrateOptions({ jobId: "ftjob-1", to: "/m", margin: -1, traffic: 2 })).toThrow(
      expect.objectContaining({ code: "MIGRATE_BAD_OPTIONS", message: expect.stringMatching(/^2 bad options for tunekit migrate: --margin = -1: .*; --traffic = 2: /) }),
    );
  });
});

describe("runMigration refuses before writing anything", () => {
  it("when the base model folder is missing (MIGRATE_BASE_MODEL_MISSING)", async () => {
    await withWs(async (ws, dir) => {
      await expect(runMigration(ws, { jobId: hosted.jobId, to: join(dir, "no-model"), baseURL: hosted.baseURL, apiKeyEnv: KEY_ENV }, quiet)).rejects.toMatchObject({ code: "MIGRATE_BASE_MODEL_MISSING" });
      expect([await ws.registry.listRuns(), await ws.registry.listDatasets()]).toEqual([[], []]);
    });
  });

  it("when --distill-from-logs has no gateway log (MIGRATE_NO_GATEWAY_LOG)", async () => {
    await withWs(async (ws) => {
      await expect(runMigration(ws, { jobId: hosted.jobId, to: STORIES260K, baseURL: hosted.baseURL, apiKeyEnv: KEY_ENV, distillFromLogs: "ft:x" }, quiet)).rejects.toMatchObject({ code: "MIGRATE_NO_GATEWAY_LOG" });
      expect([await ws.registry.listRuns(), await ws.registry.listDatasets()]).toEqual([[], []]);
    });
  });

  it("when a file of the job was deleted (MIGRATE_JOB_FILE_MISSING): no dataset version, the run failed", async () => {
    const second = await startHostedJob();
    try {
      second.fixture.files.delete(second.fixture.jobs.get(second.jobId)!.validation_file!);
      await withWs(async (ws) => {
        await expect(runMigration(ws, { jobId: second.jobId, to: STORIES260K, baseURL: second.baseURL, apiKeyEnv: KEY_ENV, name: "gone" }, quiet)).rejects.toMatchObject({ code: "MIGRATE_JOB_FILE_MISSING" });
        expect(await ws.registry.listDatasets()).toEqual([]);
        const runs = await ws.registry.listRuns({ kind: "migration" });
        expect(runs.map((r) => [r.status, r.error?.code])).toEqual([["failed", "MIGRATE_JOB_FILE_MISSING"]]);
        // A re-run resumes that run: the finished job step is skipped (read from the registry, not the API).
        const lines: string[] = [];
        const requests = second.fixture.server.requests.length;
        await expect(runMigration(ws, { jobId: second.jobId, to: STORIES260K, baseURL: second.baseURL, apiKeyEnv: KEY_ENV, name: "gone" }, { step: (st, state) => lines.push(`${state} ${st}`), line: () => undefined })).rejects.toMatchObject({ code: "MIGRATE_JOB_FILE_MISSING" });
        expect(lines).toEqual(["skip job"]);
        expect(second.fixture.server.requests.slice(requests).map((r) => r.path)).not.toContain(`/v1/fine_tuning/jobs/${second.jobId}`);
        expect((await ws.registry.listRuns({ kind: "migration" })).map((r) => [r.id, r.status])).toEqual([[runs[0].id, "failed"]]);
      });
    } finally {
      await second.fixture.server.stop();
    }
  });

  it("when the same migration is running in another process (MIGRATE_ALREADY_RUNNING)", async () => {
    await withWs(async (ws) => {
      const run = await ws.registry.createRun({ kind: "migration", name: "busy", config: { jobId: hosted.jobId, modelDir: STORIES260K, name: "busy" } });
      await ws.registry.transitionRun(run.id, "running", { owner: currentOwner() });
      await expect(runMigration(ws, { jobId: hosted.jobId, to: STORIES260K, baseURL: hosted.baseURL, apiKeyEnv: KEY_ENV, name: "busy" }, quiet)).rejects.toMatchObject({ code: "MIGRATE_ALREADY_RUNNING" });
    });
  });

  it("--dry-run reads the job and plans every step, writing nothing", async () => {
    await withWs(async (ws) => {
      const lines: string[] = [];
      const plan = await runMigration(ws, { jobId: hosted.jobId, to: STORIES260K, baseURL: hosted.baseURL, apiKeyEnv: KEY_ENV, name: "dry", dryRun: true }, { step: (s, state, d) => lines.push(`${state} ${s}: ${d}`), line: (t) => lines.push(t) });
      expect(plan.steps).toEqual([
        { step: "job", status: "planned" }, { step: "import", status: "planned" }, { step: "distill", status: "not requested" },
        { step: "train", status: "planned" }, { step: "compare", status: "planned" }, { step: "experiment", status: "planned" },
      ]);
      expect(lines[1]).toMatch(/^plan import: training file file-\w+ \(\d+ records\) → dry@1 \(train\); validation file file-\w+ \(\d+ records\) → test$/);
      expect(lines[3]).toBe(`plan train: LoRA r 16 on ${STORIES260K}: 2 epochs, batch 4, lr 0.0004`);
      expect([await ws.registry.listRuns(), await ws.registry.listDatasets(), await ws.artifacts.listArtifacts()]).toEqual([[], [], []]);
    });
  });
});

describe("too few records: refused before any dataset, version, run or artifact (MIGRATE_TOO_FEW_RECORDS)", () => {
  const two = toJsonl(qaPairs().slice(0, 2));
  const empty = '{"messages":[]}\n';
  /** The error runMigration (or importJobFiles) raises for a job with these files, checking the workspace stays empty. */
  const refusal = async (files: { training?: string; validation?: string | false }, call: "runMigration" | "dryRun" | "importJobFiles" = "runMigration") => {
    const small = await startHostedJob({ validation: files.validation !== false, jsonl: { training: files.training, validation: files.validation || undefined } });
    try {
      return await withWs(async (ws) => {
        const a = { baseURL: small.baseURL, apiKeyEnv: KEY_ENV };
        const attempt =
          call === "importJobFiles"
            ? importJobFiles(ws, a, await readHostedJob(a, small.jobId), "small")
            : runMigration(ws, { jobId: small.jobId, to: STORIES260K, ...a, name: "small", dryRun: call === "dryRun" }, quiet);
        const error = await attempt.then(() => null, (e: TunekitError) => e.toJSON());
        expect([await ws.registry.listRuns(), await ws.registry.listDatasets(), await ws.artifacts.listArtifacts()]).toEqual([[], [], []]);
        return { error, job: small.fixture.jobs.get(small.jobId)! };
      });
    } finally {
      await small.fixture.server.stop();
    }
  };

  it("a training file of 2 records and no validation file", async () => {
    const { error, job } = await refusal({ training: two, validation: false });
    expect(error).toEqual({
      code: "MIGRATE_TOO_FEW_RECORDS", kind: "data",
      message: `the training file ${job.training_file} of job ${job.id} has 2 importable records and the job no validation file: too few to hold 2 out for the comparison and train on the rest (at least 4); nothing was written`,
      fix: "migrate a job with a validation file, or one with at least 4 training records",
      details: { jobId: job.id, fileId: job.training_file, role: "training_file", importable: 2, rejected: 0, needed: 4 },
    });
  });

  it("--dry-run refuses it too: the plan counts the files", async () => {
    const { error } = await refusal({ training: two, validation: false }, "dryRun");
    expect(error).toMatchObject({ code: "MIGRATE_TOO_FEW_RECORDS", details: { role: "training_file", importable: 2, needed: 4 } });
  });

  it("a validation file of 1 record (and 1 rejected line)", async () => {
    const { error, job } = await refusal({ validation: toJsonl(qaPairs().slice(12, 13)) + empty });
    expect(error).toEqual({
      code: "MIGRATE_TOO_FEW_RECORDS", kind: "data",
      message: `the validation file ${job.validation_file} of job ${job.id} has 1 importable record (1 line rejected): the comparison holds it out as the test set and needs at least 2; nothing was written`,
      fix: `migrate a job whose validation file has at least 2 valid chat records; to see why lines were rejected, download ${job.validation_file} and run \`tunekit data validate\` on it`,
      details: { jobId: job.id, fileId: job.validation_file, role: "validation_file", importable: 1, rejected: 1, needed: 2 },
    });
  });

  it("a training file with no valid record, beside a validation file", async () => {
    const { error, job } = await refusal({ training: empty });
    expect(error).toMatchObject({ code: "MIGRATE_TOO_FEW_RECORDS", message: `the training file ${job.training_file} of job ${job.id} has 0 importable records (1 line rejected): nothing to train on; nothing was written`, details: { importable: 0, rejected: 1, needed: 1 } });
  });

  it("importJobFiles refuses the same way when called alone", async () => {
    const { error } = await refusal({ training: two, validation: false }, "importJobFiles");
    expect(error).toMatchObject({ code: "MIGRATE_TOO_FEW_RECORDS", details: { importable: 2, needed: 4 } });
  });
});

describe("importJobFiles without a validation file", () => {
  it("holds out 10% (at least 2) of the training file as test", async () => {
    const noVal = await startHostedJob({ validation: false });
    try {
      await withWs(async (ws) => {
        const job = await readHostedJob({ baseURL: noVal.baseURL, apiKeyEnv: KEY_ENV }, noVal.jobId);
        const v = await importJobFiles(ws, { baseURL: noVal.baseURL, apiKeyEnv: KEY_ENV }, job, "noval");
        expect([v.training.transform, v.heldOut.transform, v.heldOut.parentId, v.heldOut.recordCount]).toEqual(["import", "split", v.training.id, 12]);
        const splits: string[] = [];
        for await (const r of readVersion(ws, v.heldOut)) splits.push(String(r.metadata?.split));
        expect(splits.filter((s) => s === "test")).toHaveLength(2);
      });
    } finally {
      await noVal.fixture.server.stop();
    }
  });
});

describe("distillFromLogs", () => {
  it("says when the log has no usable answer of the model (MIGRATE_NO_LOGGED_ANSWERS)", async () => {
    await withWs(async (ws) => {
      const stores = await openGatewayStores(ws.config.gateway, ws.stateDir);
      await stores.store.insertRequests([{ id: "r1", ts: 1, model: "gpt-4o", variant: null, experiment: null, backend: "openai", status: 200, errorCode: null, stream: false, latencyMs: 1, ttftMs: null, attempts: 1, promptTokens: null, completionTokens: null, costUsd: null, keyId: null, userKey: null, input: "[]", output: "hi", finishReason: "stop" }]);
      await stores.close();
      // The parent version is never read: the log is checked first.
      await expect(distillFromLogs(ws, {} as never, { model: "ft:x" })).rejects.toMatchObject({ code: "MIGRATE_NO_LOGGED_ANSWERS", details: { report: { logged: 1, candidates: 0, skipped: { otherModel: 1, failed: 0, noContent: 0, truncated: 0 } } } });
    });
  });
});

describe("setupExperiment", () => {
  const setup = { name: "e", publicModel: "ft:m", traffic: 0.1, old: { route: "e-old", model: "ft:m", apiKeyEnv: "K" }, replacement: { route: "e-new", modelDir: "/m", adapterDir: "/a" } };

  it("refuses a traffic share outside (0, 1] (MIGRATE_BAD_TRAFFIC)", async () => {
    await withWs(async (_ws, dir) => {
      expect(() => setupExperiment(dir, { ...setup, traffic: 0 })).toThrow(expect.objectContaining({ code: "MIGRATE_BAD_TRAFFIC" }));
    });
  });

  it("leaves tunekit.yaml untouched when the result would be invalid (MIGRATE_EXPERIMENT_INVALID)", async () => {
    await withWs(async (_ws, dir) => {
      const path = join(dir, "tunekit.yaml");
      writeFileSync(path, `${readFileSync(path, "utf8")}gateway:\n  routes:\n    - name: bad route\n`);
      const before = readFileSync(path, "utf8");
      expect(() => setupExperiment(dir, setup)).toThrow(expect.objectContaining({ code: "MIGRATE_EXPERIMENT_INVALID" }));
      expect(readFileSync(path, "utf8")).toBe(before);
    });
  });
});
