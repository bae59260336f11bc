import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TogetherOptionsSchema } from "../spec.js";
import { TogetherBackend } from "./backend.js";
import { createTogetherFixture } from "./fixtures/together-api.js";

const KEY = "together-fixture-key-0123456789abcdef";
const fixture = createTogetherFixture({ apiKey: KEY });
const dir = mkdtempSync(join(tmpdir(), "tunekit-together-"));
const train = join(dir, "train.jsonl");
writeFileSync(train, `${JSON.stringify({ messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }] })}\n`);
const MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference";
let baseURL = "";
const backend = (o: Record<string, unknown> = {}, env: Record<string, string> = { TOGETHER_API_KEY: KEY }) =>
  new TogetherBackend({ options: TogetherOptionsSchema.parse({ baseURL, ...o }), epochs: 2, seed: 3, env, maxRetries: 0 });

beforeAll(async () => {
  baseURL = `${await fixture.server.start()}/v1`;
});
afterAll(() => fixture.server.stop());

describe("TogetherBackend through the together-ai SDK", () => {
  it("uploads, creates a LoRA job, polls to completion and reads events, checkpoints, metrics and the billed price", async () => {
    const b = backend({ suffix: "support" });
    const res = await b.submit({ trainingFile: train, model: MODEL, runId: "run_t1" });
    const upload = fixture.server.requests.find((r) => r.path === "/v1/files/upload")!;
    expect(String(upload.headers["content-type"])).toMatch(/^multipart\/form-data/);
    const create = fixture.server.requests.find((r) => r.method === "POST" && r.path === "/v1/fine-tunes")!;
    expect(JSON.parse(create.body.toString())).toEqual({
      model: MODEL, training_file: res.files.training, n_evals: 0, n_epochs: 2, n_checkpoints: 1, batch_size: "max", learning_rate: 0.00001,
      training_type: { type: "Lora", lora_r: 8, lora_alpha: 16 }, training_method: { method: "sft", train_on_inputs: "auto" }, suffix: "support", random_seed: 3,
    });
    expect(res.state.status).toBe("queued");
    expect([(await b.status(res.jobId)).status, (await b.status(res.jobId)).status]).toEqual(["queued", "running"]);
    const done = await b.status(res.jobId);
    expect(done).toMatchObject({
      status: "succeeded", resultModelId: `tunekit/Meta-Llama-3.1-8B-Instruct-Reference-support-${res.jobId}`, trainedTokens: 12_345, billedCostUsd: 0.0059256,
      hyperparameters: { n_epochs: 2, batch_size: 16, training_type: "Lora", lora_r: 8, lora_alpha: 16, training_method: "sft" },
    });
    const events = await b.events(res.jobId);
    expect(events.map((e) => e.type)).toEqual(["job_pending", "job_start", "checkpoint_save", "job_complete"]);
    expect((await b.events(res.jobId, { afterId: events[1].id })).map((e) => e.type)).toEqual(["checkpoint_save", "job_complete"]);
    expect((await b.checkpoints(res.jobId)).map((c) => c.step)).toEqual([2, 4]);
    expect(await b.metrics(res.jobId)).toEqual([
      { step: 1, name: "train/loss", value: 2 },
      { step: 2, name: "train/loss", value: 1.5 },
      { step: 2, name: "val/loss", value: 1.75 },
    ]);
  });

  it("creates a full fine-tune with DPO", async () => {
    await backend({ trainingType: "full", method: "dpo" }).submit({ trainingFile: train, model: MODEL, runId: "run_t2" });
    const body = JSON.parse(fixture.server.requests.filter((r) => r.path === "/v1/fine-tunes").at(-1)!.body.toString());
    expect([body.training_type, body.training_method]).toEqual([{ type: "Full" }, { method: "dpo" }]);
  });

  it("cancels, and maps errors", async () => {
    const b = backend();
    const { jobId } = await b.submit({ trainingFile: train, model: MODEL, runId: "run_t3" });
    expect((await b.cancel(jobId)).status).toBe("cancelled");
    await expect(b.submit({ trainingFile: train, model: "gpt-4o", runId: "r" })).rejects.toMatchObject({ code: "PROVIDER_UNSUPPORTED_MODEL" });
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, "oops\n");
    await expect(b.submit({ trainingFile: bad, model: MODEL, runId: "r" })).rejects.toMatchObject({ code: "PROVIDER_INVALID_FILE" });
    await expect(b.status("ft-missing")).rejects.toMatchObject({ code: "PROVIDER_NOT_FOUND" });
    await expect(backend({}, { TOGETHER_API_KEY: "wrong-key-000000000000" }).status(jobId)).rejects.toMatchObject({ code: "PROVIDER_AUTH_FAILED" });
    fixture.server.failNext("POST", "/v1/fine-tunes", { status: 402, json: { error: { message: "Insufficient balance: your credit limit is exceeded (quota)", type: "billing_limit" } } });
    await expect(b.submit({ trainingFile: train, model: MODEL, runId: "r" })).rejects.toMatchObject({ code: "PROVIDER_QUOTA_EXCEEDED" });
  });
});
