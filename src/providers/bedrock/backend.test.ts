import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BedrockOptionsSchema } from "../spec.js";
import { BedrockBackend } from "./backend.js";
import { createBedrockFixture, HAIKU, LLAMA_8B, NOVA_MICRO } from "./fixtures/bedrock-api.js";

const fixture = createBedrockFixture({ s3PageSize: 1 });
const dir = mkdtempSync(join(tmpdir(), "tunekit-bedrock-"));
const train = join(dir, "train.jsonl");
const val = join(dir, "val.jsonl");
const line = (q: string, a: string) => `${JSON.stringify({ system: "support", messages: [{ role: "user", content: q }, { role: "assistant", content: a }] })}\n`;
writeFileSync(train, line("hi", "hello"));
writeFileSync(val, line("yo", "hey"));
const novaTrain = join(dir, "nova.jsonl");
writeFileSync(novaTrain, `${JSON.stringify({ schemaVersion: "bedrock-conversation-2024", system: [{ text: "support" }], messages: [{ role: "user", content: [{ text: "hi" }] }, { role: "assistant", content: [{ text: "hello" }] }] })}\n`);
const llamaTrain = join(dir, "llama.jsonl");
writeFileSync(llamaTrain, `${JSON.stringify({ prompt: "hi", completion: "hello" })}\n`);
const credentials = { accessKeyId: "AKIAFIXTUREFIXTURE00", secretAccessKey: "fixture-secret-access-key-000000000000000" };
const ROLE = "arn:aws:iam::123456789012:role/BedrockFineTune";
let endpoints = { endpoint: "", s3Endpoint: "" };

function backend(options: Record<string, unknown> = {}) {
  return new BedrockBackend({ options: BedrockOptionsSchema.parse({ ...endpoints, roleArn: ROLE, s3Uri: "s3://ft-bucket/data", ...options }), epochs: 3, credentials, maxAttempts: 1 });
}

beforeAll(async () => {
  endpoints = { endpoint: await fixture.bedrock.start(), s3Endpoint: await fixture.s3.start() };
});
afterAll(async () => {
  await fixture.bedrock.stop();
  await fixture.s3.stop();
});

describe("BedrockBackend through @aws-sdk/client-bedrock and client-s3", () => {
  it("uploads to S3 path-style, creates the customization job, polls to Completed and reads the metrics CSVs", async () => {
    const b = backend();
    const res = await b.submit({ trainingFile: train, validationFile: val, model: HAIKU, runId: "run_b1" });
    expect(res.files).toEqual({ training: "s3://ft-bucket/data/tunekit/run_b1/train.jsonl", validation: "s3://ft-bucket/data/tunekit/run_b1/validation.jsonl" });
    expect(fixture.objects.get("ft-bucket/data/tunekit/run_b1/train.jsonl")?.toString()).toBe(line("hi", "hello"));
    const create = fixture.bedrock.requests.find((r) => r.method === "POST" && r.path === "/model-customization-jobs")!;
    expect(JSON.parse(create.body.toString())).toEqual({
      jobName: "tunekit-run_b1",
      customModelName: "tunekit-run_b1",
      roleArn: ROLE,
      clientRequestToken: "run_b1",
      baseModelIdentifier: HAIKU,
      customizationType: "FINE_TUNING",
      trainingDataConfig: { s3Uri: "s3://ft-bucket/data/tunekit/run_b1/train.jsonl" },
      validationDataConfig: { validators: [{ s3Uri: "s3://ft-bucket/data/tunekit/run_b1/validation.jsonl" }] },
      outputDataConfig: { s3Uri: "s3://ft-bucket/data/tunekit/run_b1/output/" },
      hyperParameters: { epochCount: "3", batchSize: "32", learningRateMultiplier: "1", earlyStoppingThreshold: "0.001", earlyStoppingPatience: "2" },
      jobTags: [{ key: "tunekit-run", value: "run_b1" }],
    });
    expect(res.state).toMatchObject({ status: "validating", providerStatus: "InProgress" });
    expect((await b.status(res.jobId)).status).toBe("running");
    const done = await b.status(res.jobId);
    expect(done).toMatchObject({
      status: "succeeded",
      resultModelId: `arn:aws:bedrock:us-west-2:123456789012:custom-model/${HAIKU}/job1`,
      hyperparameters: { epochCount: 3, batchSize: 32, learningRateMultiplier: 1, earlyStoppingThreshold: 0.001, earlyStoppingPatience: 2 },
      finishedAt: "2026-11-01T11:00:00.000Z",
    });
    const events = await b.events(res.jobId);
    expect(events.map((e) => e.id)).toEqual(["validation:Completed", "data processing:Completed", "training:Completed"]);
    expect((await b.events(res.jobId, { afterId: "data processing:Completed" })).map((e) => e.id)).toEqual(["training:Completed"]);
    // ListObjectsV2 pages of one key each (continuation tokens), then both CSVs parsed
    expect(await b.metrics(res.jobId)).toEqual([
      { step: 1, epoch: 0, name: "train/loss", value: 2 },
      { step: 2, epoch: 0, name: "train/loss", value: 1.5 },
      { step: 3, epoch: 1, name: "train/loss", value: 1 },
      { step: 3, epoch: 1, name: "val/loss", value: 1.25 },
    ]);
    const lists = fixture.s3.requests.filter((r) => r.query.get("list-type") === "2");
    expect(lists.map((r) => r.query.get("continuation-token"))).toEqual([null, "1"]);
    expect(await b.checkpoints()).toEqual([]);
  });

  it("stops a running job", async () => {
    const b = backend();
    const { jobId } = await b.submit({ trainingFile: train, model: HAIKU, runId: "run_b2" });
    expect((await b.cancel(jobId)).status).toBe("running"); // Stopping
    expect((await b.status(jobId)).status).toBe("cancelled");
  });

  it("maps Bedrock errors: region, unsupported model, invalid file, missing job, throttling, access denied", async () => {
    await expect(backend({ region: "us-east-1" }).submit({ trainingFile: train, model: HAIKU, runId: "r1" })).rejects.toMatchObject({ code: "PROVIDER_REGION_UNSUPPORTED" });
    await expect(backend().submit({ trainingFile: train, model: "anthropic.claude-v2", runId: "r2" })).rejects.toMatchObject({ code: "PROVIDER_UNSUPPORTED_MODEL" });
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, "{}\n");
    await expect(backend().submit({ trainingFile: bad, model: HAIKU, runId: "r3" })).rejects.toMatchObject({ code: "PROVIDER_INVALID_FILE" });
    await expect(backend().status("arn:aws:bedrock:us-west-2:123456789012:model-customization-job/x/nope")).rejects.toMatchObject({ code: "PROVIDER_NOT_FOUND" });
    fixture.bedrock.failNext("GET", "/model-customization-jobs/", { status: 429, json: { message: "Rate exceeded" }, headers: { "x-amzn-errortype": "ThrottlingException" } });
    await expect(backend().status("x")).rejects.toMatchObject({ code: "PROVIDER_RATE_LIMITED" });
    fixture.bedrock.failNext("POST", "/model-customization-jobs", { status: 403, json: { message: "not authorized to perform: iam:PassRole" }, headers: { "x-amzn-errortype": "AccessDeniedException" } });
    await expect(backend().submit({ trainingFile: train, model: HAIKU, runId: "r4" })).rejects.toMatchObject({ code: "PROVIDER_PERMISSION_DENIED" });
    await expect(backend({ roleArn: undefined }).submit({ trainingFile: train, model: HAIKU, runId: "r5" })).rejects.toMatchObject({ code: "PROVIDER_BEDROCK_SETTINGS_MISSING" });
  });

  it("customizes Amazon Nova in its own region with Nova's hyperparameters and reads the job back there", async () => {
    const b = backend();
    const res = await b.submit({ trainingFile: novaTrain, model: NOVA_MICRO, runId: "run_n1" });
    const create = fixture.bedrock.requests.filter((r) => r.method === "POST" && r.path === "/model-customization-jobs").at(-1)!;
    expect(/Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(create.headers.authorization))?.[1]).toBe("us-east-1");
    expect(JSON.parse(create.body.toString())).toEqual({
      jobName: "tunekit-run_n1",
      customModelName: "tunekit-run_n1",
      roleArn: ROLE,
      clientRequestToken: "run_n1",
      baseModelIdentifier: NOVA_MICRO,
      customizationType: "FINE_TUNING",
      trainingDataConfig: { s3Uri: "s3://ft-bucket/data/tunekit/run_n1/train.jsonl" },
      outputDataConfig: { s3Uri: "s3://ft-bucket/data/tunekit/run_n1/output/" },
      hyperParameters: { epochCount: "3", learningRate: "0.00001", learningRateWarmupSteps: "10" },
      jobTags: [{ key: "tunekit-run", value: "run_n1" }],
    });
    expect(res.jobId).toBe(`arn:aws:bedrock:us-east-1:123456789012:model-customization-job/${NOVA_MICRO}/job${fixture.jobs.size}`);
    await b.status(res.jobId);
    const done = await b.status(res.jobId);
    expect([done.status, done.resultModelId, done.hyperparameters]).toEqual([
      "succeeded", `arn:aws:bedrock:us-east-1:123456789012:custom-model/${NOVA_MICRO}/job${fixture.jobs.size}`, { epochCount: 3, learningRate: 0.00001, learningRateWarmupSteps: 10 }]);
  });

  it("sends Llama its batch size of 1 and learning rate, and prompt/completion data", async () => {
    const res = await backend({ learningRate: 0.0002 }).submit({ trainingFile: llamaTrain, model: LLAMA_8B, runId: "run_l1" });
    expect(fixture.jobs.get(res.jobId)?.hyperParameters).toEqual({ epochCount: "3", batchSize: "1", learningRate: "0.0002" });
  });

  it("refuses settings another family uses, or out of the family's range, before uploading", async () => {
    const uploads = fixture.s3.requests.filter((r) => r.method === "PUT").length;
    await expect(backend({ learningRateMultiplier: 1.5 }).submit({ trainingFile: novaTrain, model: NOVA_MICRO, runId: "r6" })).rejects.toMatchObject({
      code: "PROVIDER_BEDROCK_SETTINGS_INVALID",
      message: "hosted.bedrock.learningRateMultiplier does not apply to amazon.nova-micro-v1:0:128k (nova: epochCount, learningRate, learningRateWarmupSteps)",
    });
    await expect(backend({ epochCount: 8 }).submit({ trainingFile: novaTrain, model: NOVA_MICRO, runId: "r7" })).rejects.toMatchObject({
      code: "PROVIDER_BEDROCK_SETTINGS_INVALID",
      message: "hosted.bedrock epochCount 8 is outside 1..5 for amazon.nova-micro-v1:0:128k (https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-nova-mm.html)",
    });
    expect(fixture.s3.requests.filter((r) => r.method === "PUT").length).toBe(uploads);
  });
});
