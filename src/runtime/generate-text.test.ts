import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer } from "../tokenize/index.js";
import { buildSamplingParams, firstStop, generateText } from "./generate-text.js";
import { STORIES260K } from "../train/testing/train-fixtures.js";
import type { WorkerClient } from "./worker-client.js";
import { startWorker } from "./worker-session.js";

const EXPECTED = JSON.parse(readFileSync(join(STORIES260K, "EXPECTED.json"), "utf8")) as {
  prompts: { prompt: string; input_ids: number[]; continuation_ids: number[]; continuation_text: string }[];
};

describe("generateText on one long-lived worker", () => {
  let worker: WorkerClient;
  beforeAll(async () => {
    worker = await startWorker({ worker: { python: "/usr/bin/python3", device: "auto", readyTimeoutMs: 60_000 } });
  });
  afterAll(async () => {
    await worker.close();
  });

  it("reproduces every EXPECTED.json greedy continuation token for token", async () => {
    for (const p of EXPECTED.prompts) {
      const out = await generateText(worker, { modelDir: STORIES260K, prompt: p.prompt, maxNewTokens: p.continuation_ids.length, device: "cpu" });
      expect({ promptIds: out.promptIds, ids: out.ids, text: out.text }).toEqual({ promptIds: p.input_ids, ids: p.continuation_ids, text: p.continuation_text });
    }
  });

  it("stops at a stop string and leaves it out of the text", async () => {
    const out = await generateText(worker, { modelDir: STORIES260K, prompt: "Once upon a time", maxNewTokens: 64, stop: ["Lily"], device: "cpu" });
    expect(out).toMatchObject({ text: ", there was a little girl named ", finishReason: "stop" });
  });
});

describe("buildSamplingParams", () => {
  const tokenizer = loadTokenizer(STORIES260K);

  it("applies the defaults and encodes stop strings as continuations, leaving out one that encodes to nothing", async () => {
    expect(await buildSamplingParams(tokenizer, {}, ["Lily", ""])).toEqual({
      max_new_tokens: 64,
      temperature: 0,
      top_p: 1,
      seed: null,
      stop_token_ids: [...tokenizer.eosIds],
      stop_sequences: [await tokenizer.encode("Lily", { addSpecialTokens: false })],
    });
    expect(await buildSamplingParams(tokenizer, { maxNewTokens: 5, temperature: 0.7, topP: 0.9, seed: 3 }, [])).toMatchObject({ max_new_tokens: 5, temperature: 0.7, top_p: 0.9, seed: 3, stop_sequences: [] });
  });

  it("firstStop finds the earliest stop string, null when none occurs", () => {
    expect([firstStop("a END b STOP", ["STOP", "END"]), firstStop("plain", ["END"])]).toEqual([2, null]);
    // "" is no stop: the plain answer must not come back empty while the streamed one is whole.
    expect([firstStop("plain", [""]), firstStop("a END", ["", "END"])]).toEqual([null, 2]);
  });
});
