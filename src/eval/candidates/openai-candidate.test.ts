import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { EvalExample } from "../metrics/metric.js";
import { startChatStub, type ChatStubServer } from "../testing/chat-stub-server.js";
import { OpenAICandidate } from "./openai-candidate.js";
import { RequestCache } from "./request-cache.js";
import { runCandidate } from "./run-candidate.js";

const examples: EvalExample[] = ["alpha", "beta", "gamma", "delta"].map((w, i) => ({ id: String(i), input: w, reference: w.toUpperCase() }));
const fast = { baseDelayMs: 1, maxDelayMs: 5 };
let server: ChatStubServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  server = undefined;
  dir = undefined;
});

function run(candidate: OpenAICandidate, concurrency = 2) {
  return runCandidate({ backend: candidate, prompt: {}, examples, sources: {}, concurrency, maxTokens: 16, temperature: 0 });
}

describe("OpenAI-compatible candidate against a local chat-completions server", () => {
  it("retries 429 with backoff, then succeeds; records tokens", async () => {
    server = await startChatStub((req, i) => (i === 0 ? { status: 429, retryAfter: 0 } : req.messages.at(-1)!.content.toUpperCase()));
    const out = await run(new OpenAICandidate({ model: "stub", baseURL: server.url, retry: fast }), 1);
    expect(out.map((o) => o.output)).toEqual(["ALPHA", "BETA", "GAMMA", "DELTA"]);
    expect(out.map((o) => o.attempts)).toEqual([2, 1, 1, 1]);
    expect(out[0]).toMatchObject({ error: null, promptTokens: 1, completionTokens: 1, cached: false });
    expect(server.calls).toHaveLength(5);
  });

  it("records 500 failures per example without aborting the run", async () => {
    server = await startChatStub((req) => (req.messages.at(-1)!.content === "beta" ? { status: 500 } : "ok"));
    const out = await run(new OpenAICandidate({ model: "stub", baseURL: server.url, retry: { ...fast, maxAttempts: 3 } }));
    expect(out.map((o) => o.output)).toEqual(["ok", null, "ok", "ok"]);
    expect(out[1].error?.code).toBe("EVAL_CANDIDATE_REQUEST_FAILED");
    expect(out[1].error?.message).toMatch(/failed after 3 attempt\(s\): HTTP 500/);
    expect(out[1].attempts).toBe(3);
    expect(server.calls.filter((c) => c.messages.at(-1)!.content === "beta")).toHaveLength(3);
  });

  it("does not retry a 400 and reports it", async () => {
    server = await startChatStub(() => ({ status: 400, body: { error: { message: "bad model" } } }));
    const out = await run(new OpenAICandidate({ model: "stub", baseURL: server.url, retry: fast }));
    expect(out.every((o) => o.attempts === 1 && o.error?.code === "EVAL_CANDIDATE_REQUEST_FAILED")).toBe(true);
    expect(server.calls).toHaveLength(4);
  });

  it("resumes from the request cache: a rerun makes zero calls for finished examples", async () => {
    dir = mkdtempSync(join(tmpdir(), "tunekit-eval-cache-"));
    const cache = new RequestCache(dir);
    let failGamma = true;
    server = await startChatStub((req) => (req.messages.at(-1)!.content === "gamma" && failGamma ? { status: 503 } : `answer ${req.messages.at(-1)!.content}`));
    const first = await run(new OpenAICandidate({ model: "stub", baseURL: server.url, cache, retry: { ...fast, maxAttempts: 1 } }));
    expect(first.map((o) => o.error === null)).toEqual([true, true, false, true]);
    const callsAfterFirst = server.calls.length;
    failGamma = false;
    const second = await run(new OpenAICandidate({ model: "stub", baseURL: server.url, cache, retry: fast }));
    expect(second.map((o) => o.output)).toEqual(["answer alpha", "answer beta", "answer gamma", "answer delta"]);
    expect(second.map((o) => o.cached)).toEqual([true, true, false, true]);
    expect(server.calls.length - callsAfterFirst).toBe(1);
    const third = await run(new OpenAICandidate({ model: "stub", baseURL: server.url, cache, retry: fast }));
    expect(third.every((o) => o.cached)).toBe(true);
    expect(server.calls.length - callsAfterFirst).toBe(1);
  });

  it("flags an answer that hit max_tokens (finish_reason length) as truncated, also when served from the cache", async () => {
    dir = mkdtempSync(join(tmpdir(), "tunekit-eval-cache-"));
    const cache = new RequestCache(dir);
    server = await startChatStub((req) => (req.messages.at(-1)!.content === "beta" ? "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen" : "short"));
    const out = await run(new OpenAICandidate({ model: "stub", baseURL: server.url, cache, retry: fast }));
    expect(out.map((o) => [o.finishReason, o.truncated])).toEqual([["stop", false], ["length", true], ["stop", false], ["stop", false]]);
    expect(out[1].output).toBe("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen");
    const again = await run(new OpenAICandidate({ model: "stub", baseURL: server.url, cache, retry: fast }));
    expect(again.map((o) => [o.cached, o.truncated])).toEqual([[true, false], [true, true], [true, false], [true, false]]);
  });

  it("refuses constrained decoding without calling the endpoint (EVAL_CONSTRAIN_UNSUPPORTED)", async () => {
    server = await startChatStub(() => "x");
    const candidate = new OpenAICandidate({ model: "stub", baseURL: server.url, retry: fast });
    await expect(candidate.complete({ messages: [{ role: "user", content: "hi" }], maxTokens: 4, temperature: 0, allowed: ["a", "b"] })).rejects.toMatchObject({
      code: "EVAL_CONSTRAIN_UNSUPPORTED",
      message: "constrained decoding to the label set is not available for the OpenAI-compatible model stub: the chat-completions API can bias single tokens (logit_bias), not restrict an answer to multi-token labels",
      fix: "use constrain: labels with a local candidate (type: local), or drop it and keep classification.match: contains",
    });
    expect(server.calls).toHaveLength(0);
  });

  it("keeps at most `concurrency` requests in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    server = await startChatStub(async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight -= 1;
      return "x";
    });
    await run(new OpenAICandidate({ model: "stub", baseURL: server.url }), 2);
    expect(peak).toBe(2);
  });
});
