import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateText } from "./generate-text.js";
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
