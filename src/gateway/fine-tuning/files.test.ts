import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWorkspace, type Workspace } from "../../registry/index.js";
import { Gateway } from "../server.js";
import { DEMO_BASE, chatLines, createFineTuningWorkspace, preferenceLines } from "./testing/ft-workspace.js";

/** The Files API and the job errors, through the openai SDK: OpenAI's error shape, nothing left by a bad upload. */
describe("fine-tuning files and job errors", () => {
  let dir: string;
  let ws: Workspace;
  let gateway: Gateway;
  let client: OpenAI;
  let key: string;

  beforeAll(async () => {
    dir = await createFineTuningWorkspace();
    ws = await openWorkspace({ dir });
    gateway = await Gateway.start({ config: { ...ws.config.gateway, fineTuning: { ...ws.config.gateway.fineTuning, maxFileBytes: 20_000 } }, stateDir: ws.stateDir, workspace: ws, python: "/usr/bin/python3", device: "cpu" });
    key = gateway.keys.create({ name: "sdk", scopes: ["serve", "fine-tune"] }).key;
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.close();
    await ws?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const upload = (text: string, name = "train.jsonl") => toFile(Buffer.from(text), name);
  const errorOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      const err = e as InstanceType<typeof OpenAI.APIError>;
      return { status: err.status, error: err.error };
    }
    throw new Error("expected the call to fail");
  };

  it("rejects a malformed upload with OpenAI's error shape naming the line, and keeps nothing", async () => {
    const lines = chatLines(false);
    lines[2] = JSON.stringify({ messages: [{ role: "user", content: "hi" }, { role: "bot", content: "hello" }] });
    lines[4] = "{not json";
    const before = (await ws.artifacts.listArtifacts()).length;
    const { status, error } = await errorOf(client.files.create({ file: await upload(lines.join("\n")), purpose: "fine-tune" }));
    expect(status).toBe(400);
    expect(error).toMatchObject({ type: "invalid_request_error", param: "file", code: "FT_FILE_INVALID" });
    expect((error as { message: string }).message).toMatch(/^train\.jsonl is not a valid fine-tuning file: line 3: messages\[1\]\.role "bot" .* \(and 1 more problem\)$/);
    expect((await ws.artifacts.listArtifacts()).length).toBe(before);
    expect(await ws.registry.findDataset("upload-train")).toBeFalsy();
    expect(readdirSync(join(ws.stateDir, "tmp")).filter((f) => f.startsWith("upload-"))).toEqual([]);
  });

  it("rejects a purpose other than fine-tune", async () => {
    const { status, error } = await errorOf(client.files.create({ file: await upload(chatLines(false).join("\n")), purpose: "assistants" }));
    expect({ status, error }).toEqual({ status: 400, error: { message: 'purpose "assistants" is not supported here', type: "invalid_request_error", param: "purpose", code: "FT_FILE_BAD_PURPOSE", fix: "upload training and validation files with purpose 'fine-tune'" } });
  });

  it("rejects an upload over gateway.fineTuning.maxFileBytes with 413", async () => {
    const { status, error } = await errorOf(client.files.create({ file: await upload("x".repeat(30_000)), purpose: "fine-tune" }));
    expect(status).toBe(413);
    expect(error).toMatchObject({ code: "FT_FILE_TOO_LARGE", param: "file" });
  });

  it("lists files newest first in pages with after/limit", async () => {
    const ids: string[] = [];
    for (const name of ["a.jsonl", "b.jsonl", "c.jsonl"]) ids.push((await client.files.create({ file: await upload(chatLines(false).join("\n"), name), purpose: "fine-tune" })).id);
    const first = await client.files.list({ limit: 2, purpose: "fine-tune" });
    expect(first.data.map((f) => f.id)).toEqual([ids[2], ids[1]]);
    expect(first.hasNextPage()).toBe(true);
    const all: string[] = [];
    for await (const f of client.files.list({ limit: 2, purpose: "fine-tune" })) all.push(f.id);
    expect(all.slice(0, 3)).toEqual([ids[2], ids[1], ids[0]]);
    expect(await (await client.files.content(ids[0])).text()).toBe(chatLines(false).join("\n"));
    // Each upload is a dataset version of its own dataset, apart from the user's datasets.
    expect(await ws.registry.resolveDatasetVersion("upload-a")).toMatchObject({ datasetName: "upload-a", number: 1, transform: "import", recordCount: 24, params: { source: "POST /v1/files", filename: "a.jsonl", bytes: Buffer.byteLength(chatLines(false).join("\n")) } });
  });

  it("refuses method reinforcement as not available in this version", async () => {
    const file = await client.files.create({ file: await upload(chatLines(false).join("\n")), purpose: "fine-tune" });
    const { status, error } = await errorOf(client.fineTuning.jobs.create({ model: "demo-base", training_file: file.id, method: { type: "reinforcement", reinforcement: { grader: { type: "string_check", name: "g", input: "{{sample.output_text}}", reference: "x", operation: "eq" } } } }));
    expect({ status, error }).toEqual({
      status: 400,
      error: { message: 'method "reinforcement" is not available in this version of tunekit; "supervised" and "dpo" fine-tuning run locally', type: "invalid_request_error", param: "method.type", code: "FT_METHOD_UNAVAILABLE", fix: "send method: {type: 'supervised'} (chat files) or {type: 'dpo'} (preference files)" },
    });
  });

  it("validates a preference upload with the openai-dpo rules, naming the line", async () => {
    const lines = preferenceLines(false);
    lines[1] = JSON.stringify({ input: { messages: [{ role: "user", content: "hi" }] }, preferred_output: [{ role: "assistant", content: "a" }, { role: "assistant", content: "b" }], non_preferred_output: [{ role: "assistant", content: "c" }] });
    const { status, error } = await errorOf(client.files.create({ file: await upload(lines.join("\n"), "prefs-bad.jsonl"), purpose: "fine-tune" }));
    expect({ status, error }).toEqual({
      status: 400,
      error: {
        message: "prefs-bad.jsonl is not a valid fine-tuning file: line 2: preferred_output must hold exactly 1 assistant message (has 2, first role \"assistant\")",
        type: "invalid_request_error",
        param: "file",
        code: "FT_FILE_INVALID",
        fix: 'write preferred_output as [{"role": "assistant", "content": "..."}]; `tunekit data validate FILE --target openai-dpo` lists every problem',
      },
    });
    expect(await ws.registry.findDataset("upload-prefs-bad")).toBeFalsy();
  });

  it("refuses a chat file for a dpo job and a preference file for a supervised one (OpenAI's 400)", async () => {
    const chat = await client.files.create({ file: await upload(chatLines(false).join("\n"), "chat.jsonl"), purpose: "fine-tune" });
    const prefs = await client.files.create({ file: await upload(preferenceLines(false).join("\n"), "prefs.jsonl"), purpose: "fine-tune" });
    expect(prefs.purpose).toBe("fine-tune");
    const before = (await ws.registry.listRuns({ kind: "train" })).length;
    expect(await errorOf(client.fineTuning.jobs.create({ model: "demo-base", training_file: chat.id, method: { type: "dpo", dpo: { hyperparameters: { beta: 0.1 } } } }))).toEqual({
      status: 400,
      error: {
        message: `training_file ${chat.id} (chat.jsonl) holds chat examples (messages), but method "dpo" trains on preference pairs ({input: {messages}, preferred_output, non_preferred_output})`,
        type: "invalid_request_error",
        param: "training_file",
        code: "FT_FILE_METHOD_MISMATCH",
        fix: "send method: {type: 'supervised'} (or leave method out) to train on chat examples, or upload a preference-format file",
      },
    });
    expect(await errorOf(client.fineTuning.jobs.create({ model: "demo-base", training_file: prefs.id }))).toEqual({
      status: 400,
      error: {
        message: `training_file ${prefs.id} (prefs.jsonl) holds preference pairs (input, preferred_output, non_preferred_output), but method "supervised" trains on chat examples ({messages: [...]})`,
        type: "invalid_request_error",
        param: "training_file",
        code: "FT_FILE_METHOD_MISMATCH",
        fix: "send method: {type: 'dpo'} to train on preference pairs, or upload a chat-format file",
      },
    });
    const mixed = await errorOf(client.fineTuning.jobs.create({ model: "demo-base", training_file: prefs.id, validation_file: chat.id, method: { type: "dpo" } }));
    expect(mixed).toMatchObject({ status: 400, error: { code: "FT_FILE_METHOD_MISMATCH", param: "validation_file" } });
    expect((await ws.registry.listRuns({ kind: "train" })).length).toBe(before);
  });

  it("refuses a model folder path unless gateway.fineTuning.allowPaths is on", async () => {
    const file = await client.files.create({ file: await upload(chatLines(false).join("\n")), purpose: "fine-tune" });
    expect(await errorOf(client.fineTuning.jobs.create({ model: DEMO_BASE, training_file: file.id }))).toEqual({
      status: 400,
      error: {
        message: `Model ${DEMO_BASE} is not available for fine-tuning: it is not a name in gateway.fineTuning.baseModels`,
        type: "invalid_request_error",
        param: "model",
        code: "FT_MODEL_NOT_AVAILABLE",
        fix: "use one of demo-base (a model folder path is accepted only with gateway.fineTuning.allowPaths: true)",
      },
    });
  });

  it("refuses an unknown base model and an unknown training file", async () => {
    const file = await client.files.create({ file: await upload(chatLines(false).join("\n")), purpose: "fine-tune" });
    const model = await errorOf(client.fineTuning.jobs.create({ model: "gpt-4o-mini-2024-07-18", training_file: file.id }));
    expect(model).toMatchObject({ status: 400, error: { code: "FT_MODEL_NOT_AVAILABLE", param: "model", fix: "use one of demo-base (a model folder path is accepted only with gateway.fineTuning.allowPaths: true)" } });
    const missing = await errorOf(client.fineTuning.jobs.create({ model: "demo-base", training_file: "file-nothere" }));
    expect(missing).toMatchObject({ status: 404, error: { message: "No such File object: file-nothere", type: "not_found_error", param: "training_file", code: "FT_FILE_NOT_FOUND" } });
    expect(await errorOf(client.fineTuning.jobs.retrieve("ftjob-nothere"))).toMatchObject({ status: 404, error: { message: "Could not find fine-tune: ftjob-nothere", code: "FT_JOB_NOT_FOUND" } });
  });

  it("answers each request error in OpenAI's shape", async () => {
    const post = (path: string, body: BodyInit, type: string) => fetch(`${gateway.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": type }, body }).then(async (r) => ({ status: r.status, error: ((await r.json()) as { error: Record<string, unknown> }).error }));
    expect(await post("/v1/files", "{}", "application/json")).toMatchObject({ status: 400, error: { code: "FT_FILE_NOT_MULTIPART", param: "file" } });
    const noFile = new FormData();
    noFile.set("purpose", "fine-tune");
    expect(await fetch(`${gateway.url}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: noFile }).then(async (r) => ({ status: r.status, error: ((await r.json()) as { error: unknown }).error }))).toMatchObject({ status: 400, error: { code: "FT_FILE_MISSING", param: "file" } });
    expect(await errorOf(client.fineTuning.jobs.create({ model: "demo-base" } as never))).toMatchObject({ status: 400, error: { code: "FT_BAD_REQUEST", param: "training_file", type: "invalid_request_error" } });
    expect(await errorOf(client.files.list({ limit: 0 }))).toMatchObject({ status: 400, error: { code: "FT_BAD_LIMIT", param: "limit" } });
    expect(await errorOf(client.fineTuning.jobs.list({ after: "ftjob-gone" }))).toMatchObject({ status: 400, error: { code: "FT_BAD_CURSOR", param: "after" } });
  });

  it("refuses to start with a gateway.fineTuning.train that is not a train spec", async () => {
    const config = { ...ws.config.gateway, port: 0, fineTuning: { ...ws.config.gateway.fineTuning, train: { batchSize: 0, lr: 0.1 } } };
    const started = Gateway.start({ config, stateDir: join(ws.stateDir, "other"), workspace: ws });
    await expect(started).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    await expect(started).rejects.toThrow(/gateway\.fineTuning\.train\.batchSize[\s\S]*gateway\.fineTuning\.train\.lr/);
  });

  it("needs the fine-tune scope", async () => {
    const serveOnly = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gateway.keys.create({ name: "chat", scopes: ["serve"] }).key, maxRetries: 0 });
    expect(await errorOf(serveOnly.fineTuning.jobs.list())).toMatchObject({ status: 401, error: { type: "authentication_error", code: "GATEWAY_AUTH_SCOPE" } });
  });
});
