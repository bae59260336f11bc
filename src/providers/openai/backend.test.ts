import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenAiOptionsSchema } from "../spec.js";
import { OpenAiBackend } from "./backend.js";
import { createOpenAiFixture } from "./fixtures/openai-api.js";

const KEY = "sk-test-abcdefghijklmnopqrstuvwxyz";
const fixture = createOpenAiFixture({ apiKey: KEY, pageSize: 2 });
const dir = mkdtempSync(join(tmpdir(), "tunekit-openai-"));
const train = join(dir, "train.jsonl");
const val = join(dir, "val.jsonl");
writeFileSync(train, `${JSON.stringify({ messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }] })}\n`);
writeFileSync(val, `${JSON.stringify({ messages: [{ role: "user", content: "yo" }, { role: "assistant", content: "hey" }] })}\n`);
let baseURL = "";

function backend(options: Record<string, unknown> = {}, env: Record<string, string> = { OPENAI_API_KEY: KEY }) {
  return new OpenAiBackend({ options: OpenAiOptionsSchema.parse({ baseURL, ...options }), epochs: 2, seed: 7, env, maxRetries: 0 });
}

beforeAll(async () => {
  baseURL = `${await fixture.server.start()}/v1`;
});
afterAll(() => fixture.server.stop());

describe("OpenAiBackend through the openai SDK", () => {
  it("uploads files, creates an SFT job with hyperparameters, polls to success with resolved values", async () => {
    const b = backend({ suffix: "support", learningRateMultiplier: "auto" });
    const submitted = await b.submit({ trainingFile: train, validationFile: val, model: "gpt-4o-mini-2024-07-18", runId: "run_1" });
    expect(submitted.state.status).toBe("validating");
    const create = fixture.server.requests.find((r) => r.method === "POST" && r.path === "/v1/fine_tuning/jobs")!;
    expect(JSON.parse(create.body.toString())).toEqual({
      model: "gpt-4o-mini-2024-07-18",
      training_file: submitted.files.training,
      validation_file: submitted.files.validation,
      suffix: "support",
      seed: 7,
      method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 2, batch_size: "auto", learning_rate_multiplier: "auto" } } },
      metadata: { tunekit_run: "run_1" },
    });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await b.status(submitted.jobId)).status);
    expect(statuses).toEqual(["queued", "running", "succeeded"]);
    const done = await b.status(submitted.jobId);
    expect(done).toMatchObject({
      status: "succeeded",
      resultModelId: `ft:gpt-4o-mini-2024-07-18:org-fixture:support:abc123`,
      hyperparameters: { method: "supervised", n_epochs: 2, batch_size: 1, learning_rate_multiplier: 1.8, seed: 7 },
      trainedTokens: 3 * statSync(train).size,
    });
    expect(await b.resultModelId(submitted.jobId)).toBe(done.resultModelId);

    // events: 7 in total, served newest first 2 per page; returned oldest first, and only new ones after a cursor
    const events = await b.events(submitted.jobId);
    expect(events.map((e) => e.type)).toEqual(["message", "message", "metrics", "metrics", "metrics", "message"]);
    expect(events[2]).toMatchObject({ step: 1, metrics: { step: 1, train_loss: 2.5, train_mean_token_accuracy: 0.41, total_steps: 3 } });
    expect((await b.events(submitted.jobId, { afterId: events[3].id })).map((e) => e.id)).toEqual([events[4].id, events[5].id]);
    expect(fixture.server.requests.filter((r) => r.path.endsWith("/events")).some((r) => r.query.get("after"))).toBe(true);

    // checkpoints over two pages, sorted by step
    const ckpts = await b.checkpoints(submitted.jobId);
    expect(ckpts.map((c) => [c.step, c.modelId])).toEqual([1, 2, 3].map((s) => [s, `ft:gpt-4o-mini-2024-07-18:org-fixture::abc123:ckpt-step-${s}`]));
    expect(ckpts[1].metrics.valid_loss).toBe(1);

    // the result CSV (served base64) becomes run metrics
    const metrics = await b.metrics(submitted.jobId);
    expect(metrics.filter((m) => m.step === 2)).toEqual([
      { step: 2, name: "train/loss", value: 1.25 },
      { step: 2, name: "train/accuracy", value: 0.6 },
      { step: 2, name: "val/loss", value: 1.5 },
      { step: 2, name: "val/mean_token_accuracy", value: 0.55 },
      { step: 2, name: "train/mean_token_accuracy", value: 0.62 },
    ]);
    expect(metrics.length).toBe(13); // 3 + 5 + 5 non-empty cells in RESULT_CSV
  });

  it("sends a DPO method with beta", async () => {
    const b = backend({ method: "dpo", beta: 0.2, nEpochs: "auto" });
    await b.submit({ trainingFile: train, model: "gpt-4.1-mini-2025-04-14", runId: "run_2" });
    const create = fixture.server.requests.filter((r) => r.path === "/v1/fine_tuning/jobs").at(-1)!;
    expect(JSON.parse(create.body.toString()).method).toEqual({ type: "dpo", dpo: { hyperparameters: { n_epochs: "auto", batch_size: "auto", learning_rate_multiplier: "auto", beta: 0.2 } } });
  });

  it("cancels a running job", async () => {
    const b = backend();
    const { jobId } = await b.submit({ trainingFile: train, model: "gpt-4o-mini-2024-07-18", runId: "run_3" });
    expect((await b.cancel(jobId)).status).toBe("cancelled");
  });

  it("maps errors to actionable PROVIDER_ codes", async () => {
    await expect(backend().submit({ trainingFile: train, model: "gpt-9", runId: "r" })).rejects.toMatchObject({ code: "PROVIDER_UNSUPPORTED_MODEL" });
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, "not json\n");
    await expect(backend().submit({ trainingFile: bad, model: "gpt-4o-mini-2024-07-18", runId: "r" })).rejects.toMatchObject({ code: "PROVIDER_INVALID_FILE" });
    fixture.server.failNext("POST", "/v1/files", { status: 429, json: { error: { message: "You exceeded your current quota, please check your plan and billing details.", type: "insufficient_quota", param: null, code: "insufficient_quota" } } });
    await expect(backend().submit({ trainingFile: train, model: "gpt-4o-mini-2024-07-18", runId: "r" })).rejects.toMatchObject({ code: "PROVIDER_QUOTA_EXCEEDED" });
    fixture.server.failNext("GET", "/v1/fine_tuning/jobs/", { status: 429, json: { error: { message: "Rate limit reached for requests", type: "requests", param: null, code: "rate_limit_exceeded" } } });
    await expect(backend().status("ftjob-x")).rejects.toMatchObject({ code: "PROVIDER_RATE_LIMITED" });
    await expect(backend().status("ftjob-missing")).rejects.toMatchObject({ code: "PROVIDER_NOT_FOUND" });
    const wrongKey = "sk-wrong-abcdefghijklmnopqrstuvwxyz";
    const err = await backend({}, { OPENAI_API_KEY: wrongKey }).status("ftjob-1").catch((e: Error) => e);
    expect(err).toMatchObject({ code: "PROVIDER_AUTH_FAILED" });
    expect(JSON.stringify({ m: (err as Error).message, d: (err as { details?: unknown }).details })).not.toContain(wrongKey);
    expect(() => backend({}, {})).toThrow(expect.objectContaining({ code: "PROVIDER_CREDENTIALS_MISSING" }));
    await expect(new OpenAiBackend({ options: OpenAiOptionsSchema.parse({ baseURL: "http://127.0.0.1:1/v1" }), env: { OPENAI_API_KEY: KEY }, maxRetries: 0 }).status("x")).rejects.toMatchObject({ code: "PROVIDER_UNREACHABLE" });
  });
});
