import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ChatRecord } from "../data/index.js";
import { LocalCandidate } from "../eval/index.js";
import { startTestGateway } from "../gateway/testing/gateway-fixture.js";
import { STORIES260K } from "../test-support/paths.js";
import { buildExample, loadChatTemplate, loadTokenizer } from "../tokenize/index.js";
import { runCli } from "../train/testing/train-fixtures.js";
import { localModels } from "./local-model-pool.js";
import { ServingWorker } from "./serving-worker.js";
import { WorkerClient } from "./worker-client.js";
import type { GenerateParams } from "./worker-events.js";

/**
 * Issue #15: eval encoded chat prompts with the tokenizer's BOS on top of the template's, so on stories260k its
 * prompts started [1, 1, …] while training and the gateway had one BOS. Every local path now goes through
 * LocalModel and tokenize's buildPrompt; this pins all three to the ids training builds for the same chat.
 */
const PYTHON = "/usr/bin/python3";
const question = "Where is the ball?";
const record: ChatRecord = {
  messages: [
    { role: "user", content: question },
    { role: "assistant", content: "The ball is in the park." },
  ],
};
const tokenizer = loadTokenizer(STORIES260K);

/** What training puts before the assistant's first trained token: the prompt the model learned to answer. */
async function trainingPromptIds(): Promise<number[]> {
  const example = await buildExample(record, { tokenizer, template: loadChatTemplate(tokenizer) });
  return example.ids.slice(0, example.mask.indexOf(1));
}

describe("one prompt rule: eval, the gateway and generate ask stories260k what training taught it", () => {
  /** Prompt ids as they reach a worker: eval's one-off generate, and the gateway's serving-mode submit. */
  const sent: { path: "generate" | "serve"; prompt: number[] }[] = [];
  let gateway: Awaited<ReturnType<typeof startTestGateway>>;
  let candidate: LocalCandidate;
  beforeAll(async () => {
    const real = WorkerClient.prototype.generate;
    vi.spyOn(WorkerClient.prototype, "generate").mockImplementation(function (this: WorkerClient, params: GenerateParams) {
      for (const prompt of params.prompts) sent.push({ path: "generate", prompt });
      return real.call(this, params);
    });
    const submit = ServingWorker.prototype.submit;
    vi.spyOn(ServingWorker.prototype, "submit").mockImplementation(function (this: ServingWorker, ...args: Parameters<ServingWorker["submit"]>) {
      sent.push({ path: "serve", prompt: args[0].prompt });
      return submit.apply(this, args);
    });
    candidate = new LocalCandidate({ modelDir: STORIES260K, device: "cpu", python: PYTHON, stop: [] });
    gateway = await startTestGateway(
      { auth: { required: false }, logging: { durability: "write", flushMs: 20 }, routes: [{ name: "stories", backend: "local", modelDir: STORIES260K, maxNewTokens: 8 }] },
      { python: PYTHON, device: "cpu" },
    );
  }, 120_000);
  afterAll(async () => {
    vi.restoreAllMocks();
    await candidate?.close();
    await gateway?.stop();
  });

  it("training's prompt for the chat starts with exactly one BOS", async () => {
    const ids = await trainingPromptIds();
    expect(ids.slice(0, 2)).toEqual([tokenizer.bosId, ids[1]]);
    expect(ids[1]).not.toBe(tokenizer.bosId);
  });

  it("eval's local candidate and the gateway's local route send training's ids, through one pooled model", async () => {
    const expected = await trainingPromptIds();
    await candidate.complete({ messages: [{ role: "user", content: question }], maxTokens: 8, temperature: 0 });
    const client = new OpenAI({ baseURL: `${gateway.gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: "stories", messages: [{ role: "user", content: question }], temperature: 0 });
    expect(sent).toEqual([{ path: "generate", prompt: expected }, { path: "serve", prompt: expected }]);
    expect(answer.usage?.prompt_tokens).toBe(expected.length);
    // Same model folder, device and interpreter in one process: one pooled model (its one-off worker for eval,
    // its serving-mode worker for the gateway's concurrent streams).
    expect(localModels.size).toBe(1);
  }, 120_000);

  it("tunekit generate --chat sends training's ids; without --chat a folder's prompt is plain text with one BOS", async () => {
    const expected = await trainingPromptIds();
    const chat = await runCli(["--json", "generate", "--model", STORIES260K, "--prompt", question, "--chat", "--max-new-tokens", "4", "--device", "cpu"]);
    expect(chat.code, chat.stderr).toBe(0);
    expect(JSON.parse(chat.stdout)).toMatchObject({ chat: true, promptIds: expected });
    const plain = await runCli(["--json", "generate", "--model", STORIES260K, "--prompt", question, "--max-new-tokens", "4", "--device", "cpu"]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ chat: false, promptIds: await tokenizer.encode(question, { addSpecialTokens: true }) });
    expect(JSON.parse(plain.stdout).promptIds.slice(0, 2)).not.toEqual([1, 1]);
  }, 120_000);
});
