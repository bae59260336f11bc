import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WorkerError } from "../errors/index.js";
import { STORIES260K } from "../test-support/paths.js";
import { loadTokenizer } from "../tokenize/index.js";
import { LocalModel } from "./local-model.js";
import { LocalModelPool } from "./local-model-pool.js";
import { WorkerClient } from "./worker-client.js";
import type { GenerateParams } from "./worker-events.js";

// The fake worker answers generate with each prompt's last id and exits 3 when max_new_tokens is 13.
const FAKE = fileURLToPath(new URL("./testing/fake-worker.py", import.meta.url));
const launch = { modelDir: STORIES260K, device: "cpu", python: "/usr/bin/python3", workerArgs: [FAKE] };
const tokenizer = loadTokenizer(STORIES260K);

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function exited(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !isRunning(pid);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("LocalModel", () => {
  it("continues plain text from the prompt with one BOS, decoded in context", async () => {
    const model = new LocalModel(launch);
    try {
      const out = await model.complete("Once upon a time");
      const promptIds = await tokenizer.encode("Once upon a time", { addSpecialTokens: true });
      expect(promptIds[0]).toBe(tokenizer.bosId);
      expect({ promptIds: out.promptIds, ids: out.ids, prompt: out.prompt, text: out.text, finishReason: out.finishReason }).toEqual({
        promptIds,
        ids: promptIds.slice(-1),
        prompt: "Once upon a time",
        text: (await tokenizer.decode([...promptIds, ...promptIds.slice(-1)], { skipSpecialTokens: true })).slice("Once upon a time".length),
        finishReason: "length",
      });
    } finally {
      await model.close();
    }
  });

  it("starts a new worker after the last one died, and reports the crash to the request it broke", async () => {
    const model = new LocalModel(launch);
    try {
      await model.complete("One");
      const first = await model.workerPid();
      const err = await model.complete("Two", { maxNewTokens: 13 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerError);
      expect((err as WorkerError).code).toBe("WORKER_CRASHED");
      expect((err as WorkerError).message).toContain("RuntimeError: simulated generate failure");
      expect(await model.workerPid()).toBeNull();
      const again = await model.complete("Three");
      expect(again.ids).toEqual((await tokenizer.encode("Three", { addSpecialTokens: true })).slice(-1));
      const second = await model.workerPid();
      expect(second).not.toBeNull();
      expect(second).not.toBe(first);
    } finally {
      await model.close();
    }
  });

  it("serves each adapter from its own worker, so alternating adapters reload nothing", async () => {
    const model = new LocalModel(launch);
    try {
      await model.complete("a", { adapterDir: "/adapters/one" });
      await model.complete("b", { adapterDir: "/adapters/two" });
      await model.complete("c");
      await model.complete("d", { adapterDir: "/adapters/one/" });
      const pids = [await model.workerPid("/adapters/one"), await model.workerPid("/adapters/two"), await model.workerPid()];
      expect(pids.every((p) => p !== null)).toBe(true);
      expect(new Set(pids).size).toBe(3);
    } finally {
      await model.close();
    }
    expect(await model.workerPid("/adapters/one")).toBeNull();
  });

  it("sends requests one at a time, in order", async () => {
    const model = new LocalModel(launch);
    let inFlight = 0;
    let most = 0;
    const real = WorkerClient.prototype.generate;
    vi.spyOn(WorkerClient.prototype, "generate").mockImplementation(async function (this: WorkerClient, params: GenerateParams) {
      most = Math.max(most, ++inFlight);
      try {
        return await real.call(this, params);
      } finally {
        inFlight--;
      }
    });
    try {
      const outs = await Promise.all(["a", "b", "c"].map((p) => model.complete(p)));
      expect(outs.map((o) => o.prompt)).toEqual(["a", "b", "c"]);
      expect(most).toBe(1);
    } finally {
      await model.close();
    }
  });

  it("chat stops at end-of-turn markers the tokenizer has no token for (chatml on stories260k)", async () => {
    const model = new LocalModel(launch);
    const sent: GenerateParams[] = [];
    const real = WorkerClient.prototype.generate;
    vi.spyOn(WorkerClient.prototype, "generate").mockImplementation(function (this: WorkerClient, params: GenerateParams) {
      sent.push(params);
      return real.call(this, params);
    });
    try {
      await model.chat([{ role: "user", content: "Hi" }], { stop: ["\n\n"] });
      expect(sent[0].stop_sequences).toEqual([await tokenizer.encode("\n\n"), await tokenizer.encode("<|im_end|>")]);
      expect(sent[0].stop_token_ids).toEqual([tokenizer.eosId]);
    } finally {
      await model.close();
    }
  });
});

describe("LocalModelPool", () => {
  it("shares one model per (folder, device, launch) and shuts its worker down after the last release", async () => {
    const pool = new LocalModelPool();
    const a = pool.acquire(launch);
    const b = pool.acquire({ ...launch, modelDir: `${STORIES260K}/.` });
    const other = pool.acquire({ ...launch, device: "auto" });
    expect(b.model).toBe(a.model);
    expect(other.model).not.toBe(a.model);
    expect(pool.size).toBe(2);
    await a.model.complete("x");
    const pid = (await a.model.workerPid())!;
    await a.release();
    await a.release(); // idempotent: does not take b's hold
    expect(await b.model.workerPid()).toBe(pid);
    await b.release();
    expect(await exited(pid)).toBe(true);
    expect(pool.size).toBe(1);
    await other.release();
    expect(pool.size).toBe(0);
    const fresh = pool.acquire(launch);
    expect(fresh.model).not.toBe(a.model);
    await fresh.release();
  });
});
