import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer } from "../tokenize/index.js";
import { REPO_ROOT } from "../test-support/paths.js";
import { WorkerClient } from "../runtime/index.js";
import { startTestGateway } from "./testing/gateway-fixture.js";

// The shipped demo model (ChatML template) behind the gateway's embedded local-worker route.
const MODEL = join(REPO_ROOT, "models", "demo-base");
const PYTHON = "/usr/bin/python3";
let t: Awaited<ReturnType<typeof startTestGateway>>;
let client: OpenAI;

beforeAll(async () => {
  t = await startTestGateway(
    { auth: { required: false }, logging: { durability: "write", flushMs: 20 }, routes: [{ name: "demo", backend: "local", modelDir: MODEL, maxNewTokens: 12 }] },
    { python: PYTHON, device: "cpu" },
  );
  client = new OpenAI({ baseURL: `${t.gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

describe("gateway: the local worker route", () => {
  it("answers with the model's own greedy generation, streamed or not, and logs it", async () => {
    const messages = [{ role: "user" as const, content: "Where is my order?" }];
    const plain = await client.chat.completions.create({ model: "demo", messages, temperature: 0 });
    const text = plain.choices[0].message.content ?? "";

    // The same prompt rendered with the model's template and generated directly by the worker.
    const tokenizer = loadTokenizer(MODEL);
    const ids = await tokenizer.encode("<|im_start|>user\nWhere is my order?<|im_end|>\n<|im_start|>assistant\n");
    const worker = await WorkerClient.start({ python: PYTHON });
    try {
      const direct = await worker.generate({ model_dir: MODEL, prompts: [ids], max_new_tokens: 12, temperature: 0, top_p: 1, seed: null, stop_token_ids: [...tokenizer.eosIds], device: "cpu" });
      expect(text).toBe(await tokenizer.decode(direct.outputs[0].ids, { skipSpecialTokens: true }));
      expect(plain.usage).toEqual({ prompt_tokens: ids.length, completion_tokens: direct.outputs[0].ids.length, total_tokens: ids.length + direct.outputs[0].ids.length });
    } finally {
      await worker.close();
    }
    expect(text.length).toBeGreaterThan(0);

    const stream = await client.chat.completions.create({ model: "demo", messages, temperature: 0, stream: true });
    let streamed = "";
    let chunks = 0;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta?.content ?? "";
      chunks += 1;
    }
    expect(streamed).toBe(text);
    expect(chunks).toBeGreaterThan(2);

    await t.gateway.pipeline.drain();
    const rows = await t.gateway.store.listRequests();
    expect(rows.map((r) => [r.variant, r.backend, r.status, r.stream, r.output])).toEqual([
      ["demo", "demo", 200, false, text],
      ["demo", "demo", 200, true, text],
    ]);
  }, 120_000);
});
