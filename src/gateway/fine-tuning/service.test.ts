import { rmSync } from "node:fs";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWorkspace, type Workspace } from "../../registry/index.js";
import { Gateway } from "../server.js";
import { chatLines, createFineTuningWorkspace, preferenceLines } from "./testing/ft-workspace.js";

/**
 * Issue #18 item 1: the documented fine-tuning flow with the official openai SDK, unchanged but for baseURL and
 * apiKey: upload → create job → poll retrieve and listEvents until it succeeds → listCheckpoints → chat with
 * the fine-tuned model. Real CPU training of a LoRA on the shipped demo model.
 */
describe("OpenAI's fine-tuning API on the gateway", () => {
  let dir: string;
  let ws: Workspace;
  let gateway: Gateway;
  let client: OpenAI;

  beforeAll(async () => {
    dir = await createFineTuningWorkspace();
    ws = await openWorkspace({ dir });
    gateway = await Gateway.start({ config: ws.config.gateway, stateDir: ws.stateDir, workspace: ws, python: "/usr/bin/python3", device: "cpu" });
    const { key } = gateway.keys.create({ name: "sdk", scopes: ["serve", "fine-tune"] });
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close();
    await ws?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("uploads, fine-tunes, reports events and checkpoints, and serves the model at once", async () => {
    const training = await client.files.create({ file: await toFile(Buffer.from(chatLines(false).join("\n") + "\n"), "support.jsonl"), purpose: "fine-tune" });
    expect(training).toEqual({ id: expect.stringMatching(/^file-[0-9a-z]+$/), object: "file", bytes: Buffer.byteLength(chatLines(false).join("\n") + "\n"), created_at: expect.any(Number), filename: "support.jsonl", purpose: "fine-tune", status: "processed", expires_at: null, status_details: null });
    const validation = await client.files.create({ file: await toFile(Buffer.from(chatLines(true).join("\n")), "support-val.jsonl"), purpose: "fine-tune" });
    expect(await client.files.retrieve(training.id)).toEqual(training);

    const created = await client.fineTuning.jobs.create({
      model: "demo-base",
      training_file: training.id,
      validation_file: validation.id,
      suffix: "support",
      seed: 7,
      method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 8, batch_size: 4, learning_rate_multiplier: 2 } } },
    });
    expect(created).toMatchObject({ object: "fine_tuning.job", model: "demo-base", status: "queued", fine_tuned_model: null, seed: 7, training_file: training.id, validation_file: validation.id, user_provided_suffix: "support", hyperparameters: { n_epochs: 8, batch_size: 4, learning_rate_multiplier: 2 } });

    let job = created;
    const seen = new Set<string>();
    const deadline = Date.now() + 240_000;
    while (!["succeeded", "failed", "cancelled"].includes(job.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      job = await client.fineTuning.jobs.retrieve(created.id);
      for (const e of (await client.fineTuning.jobs.listEvents(created.id, { limit: 100 })).data) seen.add(e.message);
    }
    expect(job.error).toBeNull();
    expect(job.status).toBe("succeeded");
    expect(job.fine_tuned_model).toBe(`ft:demo-base:support:${created.id}`);
    expect(job.trained_tokens).toBeGreaterThan(0);
    expect(job.result_files).toHaveLength(1);
    expect([...seen]).toEqual(expect.arrayContaining([`Created fine-tuning job: ${created.id}`, "Fine-tuning job started", "The job has successfully completed"]));
    expect([...seen].some((m) => /^Step \d+\/\d+: training loss=/.test(m))).toBe(true);
    expect([...seen].some((m) => /^Step \d+\/\d+: validation loss=/.test(m))).toBe(true);

    const csv = Buffer.from(await (await client.files.content(job.result_files[0])).text(), "base64").toString("utf8");
    expect(csv.split("\n")[0]).toBe("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy,train_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy");
    expect(csv.split("\n")[1]).toMatch(/^1,\d/);

    const checkpoints = await client.fineTuning.jobs.checkpoints.list(created.id);
    expect(checkpoints.data.length).toBeGreaterThan(0);
    const newest = checkpoints.data[0];
    expect(newest).toMatchObject({ object: "fine_tuning.job.checkpoint", fine_tuning_job_id: created.id, fine_tuned_model_checkpoint: `${job.fine_tuned_model}:ckpt-step-${newest.step_number}` });
    expect(newest.metrics.train_loss).toEqual(expect.any(Number));

    const models = (await client.models.list()).data.map((m) => m.id);
    expect(models).toContain(job.fine_tuned_model);
    const chat = await client.chat.completions.create({ model: job.fine_tuned_model!, messages: [{ role: "user", content: "What did Tom have?" }], max_tokens: 24 });
    expect(chat.choices[0].message.content).toMatch(/ had a red (ball|cat|kite)\.$/);

    await expect(client.fineTuning.jobs.cancel(created.id)).rejects.toMatchObject({ status: 409, error: { code: "FT_JOB_FINISHED", message: `Job ${created.id} has already succeeded; there is nothing to cancel` } });

    // The job's data is a dataset version with lineage to the uploads.
    const run = await ws.registry.getRun(`run_${created.id.slice(6)}`);
    const version = await ws.registry.getDatasetVersion(run.datasetVersionId!);
    expect(version).toMatchObject({ datasetName: "upload-support", transform: "openai-job-split", recordCount: 36, params: { training_file: training.id, validation_file: validation.id } });
  }, 300_000);

  it("trains a dpo job on a preference file (OpenAI's method shape), beta auto → tunekit's default, and serves it", async () => {
    const training = await client.files.create({ file: await toFile(Buffer.from(preferenceLines(false).join("\n") + "\n"), "prefs.jsonl"), purpose: "fine-tune" });
    const validation = await client.files.create({ file: await toFile(Buffer.from(preferenceLines(true).join("\n")), "prefs-val.jsonl"), purpose: "fine-tune" });
    expect([training.purpose, validation.purpose]).toEqual(["fine-tune", "fine-tune"]);
    const created = await client.fineTuning.jobs.create({
      model: "demo-base",
      training_file: training.id,
      validation_file: validation.id,
      suffix: "prefs",
      method: { type: "dpo", dpo: { hyperparameters: { beta: 0.5, n_epochs: 2, batch_size: 4, learning_rate_multiplier: 0.2 } } },
    });
    expect(created).toMatchObject({ status: "queued", hyperparameters: { n_epochs: 2, batch_size: 4, learning_rate_multiplier: 0.2 }, method: { type: "dpo", dpo: { hyperparameters: { beta: 0.5, n_epochs: 2, batch_size: 4, learning_rate_multiplier: 0.2 } } } });
    // Queued behind the first: beta "auto" resolves to tunekit's default (dpo.beta 0.1) at once; cancelled unstarted.
    const auto = await client.fineTuning.jobs.create({ model: "demo-base", training_file: training.id, method: { type: "dpo", dpo: { hyperparameters: { beta: "auto", n_epochs: 1 } } } });
    expect(auto.method).toEqual({ type: "dpo", dpo: { hyperparameters: { beta: 0.1, n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 } } });
    expect((await client.fineTuning.jobs.cancel(auto.id)).status).toBe("cancelled");

    let job = created;
    const deadline = Date.now() + 240_000;
    while (!["succeeded", "failed", "cancelled"].includes(job.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      job = await client.fineTuning.jobs.retrieve(created.id);
    }
    expect(job.error).toBeNull();
    expect(job.status).toBe("succeeded");
    expect(job.fine_tuned_model).toBe(`ft:demo-base:prefs:${created.id}`);
    const messages = (await client.fineTuning.jobs.listEvents(created.id, { limit: 100 })).data.map((e) => e.message);
    expect(messages.some((m) => /^Step \d+\/12: validation loss=/.test(m))).toBe(true);

    // The run is a local DPO run with the job's beta; its rewards say the preferred answers won.
    const run = await ws.registry.getRun(`run_${created.id.slice(6)}`);
    expect(run.config).toMatchObject({ objective: "dpo", dpo: { beta: 0.5 }, epochs: 2, batchSize: 4 });
    const accuracy = await ws.registry.listRunEvents(run.id, { type: "metric", name: "val/rewards/accuracy" });
    expect(accuracy.at(-1)?.value).toBeGreaterThan(0.5);
    // Measured: val margins 5.3, 10.1, 12.8 at steps 4, 8, 12 (at lr multiplier 1 they shrink and the model degenerates).
    const margins = (await ws.registry.listRunEvents(run.id, { type: "metric", name: "val/rewards/margin" })).map((e) => e.value!);
    expect(margins).toHaveLength(3);
    expect(margins[2]).toBeGreaterThan(margins[0]);

    const chat = await client.chat.completions.create({ model: job.fine_tuned_model!, messages: [{ role: "user", content: "What did Tom have?" }], max_tokens: 24 });
    expect(chat.choices[0].message.content?.length).toBeGreaterThan(0);
  }, 300_000);
});
