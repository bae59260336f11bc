import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitVersion, type ChatRecord } from "../../data/index.js";
import { createTempWorkspace, fromArray } from "../../data/testing/temp-workspace.js";
import { exportGguf } from "../../export/index.js";
import type { Workspace } from "../../registry/index.js";
import { REPO_ROOT, STORIES260K, makeTempDir } from "../../test-support/paths.js";
import { parseEvalSuite } from "../suite/suite-config.js";
import { runEvalSuite } from "../suite/run-suite.js";
import { LlamaCppCandidate } from "./llama-cpp-candidate.js";
import { LocalCandidate } from "./local-candidate.js";

/**
 * The quality gate after export, on the demo model: its test split's references are the trained model's own
 * greedy answers, so the trained model scores 1. The faithful GGUF copy (f16, the right chat template) must
 * score the same; a copy exported with another chat template (template drift) must score significantly worse,
 * and the eval's comparison must say so.
 */
const DEMO = resolve(REPO_ROOT, "models", "demo-base");
const QUESTIONS = [
  "How do I reset my password?",
  "My card was charged twice, what can I do?",
  "Can I change my delivery address?",
  "Where is my order?",
  "I want to cancel my subscription.",
  "The app crashes when I open it.",
  "How long does a refund take?",
  "Can I pay with a credit card?",
  "I forgot my username.",
  "Do you ship to Canada?",
  "My parcel arrived damaged.",
  "How do I contact a person?",
];
const DRIFTED_TEMPLATE = "{%- for message in messages %}### {{ message['role'] }}:\n{{ message['content'] }}\n\n{%- endfor %}{%- if add_generation_prompt %}### assistant:\n{%- endif %}";
const tmp = makeTempDir("tunekit-gguf-eval-");
let ws: Workspace;
let right: string;
let drifted: string;

beforeAll(async () => {
  right = (await exportGguf({ modelDir: DEMO, outDir: join(tmp, "right"), quant: "f16" })).ggufPath;
  drifted = (await exportGguf({ modelDir: DEMO, outDir: join(tmp, "drifted"), quant: "f16", chatTemplate: DRIFTED_TEMPLATE })).ggufPath;
  const trained = new LocalCandidate({ modelDir: DEMO, python: "/usr/bin/python3", device: "cpu" });
  const records: ChatRecord[] = [];
  try {
    for (const [i, q] of QUESTIONS.entries()) {
      const answer = await trained.complete({ messages: [{ role: "user", content: q }], maxTokens: 16, temperature: 0 });
      records.push({ messages: [{ role: "user", content: q }, { role: "assistant", content: answer.text }], metadata: { id: `q${i}`, split: "test" } });
    }
  } finally {
    await trained.close();
  }
  ws = await createTempWorkspace();
  await commitVersion(ws, { dataset: "support-echo", transform: "import", params: {}, records: fromArray(records) });
}, 240_000);

afterAll(async () => {
  await ws?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("llama-cpp candidate", () => {
  it("scores the faithful GGUF like the trained model, and the template-drifted copy significantly worse", async () => {
    const common = { maxTokens: 16, concurrency: 1 };
    const suite = parseEvalSuite({
      name: "gguf-gate",
      dataset: { version: "support-echo" },
      candidates: [
        { name: "trained", type: "local", modelDir: DEMO, ...common },
        { name: "gguf", type: "llama-cpp", path: right, threads: 1, ...common },
        { name: "gguf-tunekit-prompt", type: "llama-cpp", path: drifted, promptFormat: "tunekit", modelDir: DEMO, threads: 1, ...common },
        { name: "drifted", type: "llama-cpp", path: drifted, threads: 1, ...common },
      ],
      metrics: ["exact_match"],
      statistics: { resamples: 200 },
    });
    const outcome = await runEvalSuite(ws, suite, { baseDir: ws.root });
    const score = Object.fromEntries(outcome.summary.candidates.map((c) => [c.name, c.metrics.exact_match.value]));
    console.log(`exact match vs the trained model's answers: ${JSON.stringify(score)}`);
    // The drifted file's own template changes the answers; built by tunekit's template, its prompt is right again.
    expect({ trained: score.trained, gguf: score.gguf, "gguf-tunekit-prompt": score["gguf-tunekit-prompt"] }).toEqual({ trained: 1, gguf: 1, "gguf-tunekit-prompt": 1 });
    expect(score.drifted).toBeLessThanOrEqual(0.25);
    const gate = outcome.summary.comparisons.find((c) => c.a === "trained" && c.b === "drifted" && c.metric === "exact_match")!;
    expect(gate.difference).toBeGreaterThan(0.5);
    expect(gate.low).toBeGreaterThan(0);
    expect(gate.pValue).toBeLessThan(0.05);
    const run = await ws.registry.getRun(outcome.runId);
    const described = (run.config as { candidates: { name: string; backend: Record<string, unknown> }[] }).candidates;
    expect(described.find((c) => c.name === "drifted")!.backend).toEqual({ type: "llama-cpp", path: drifted, promptFormat: "gguf", modelDir: null, template: null });
  }, 240_000);

  it("refuses promptFormat tunekit without modelDir (EVAL_CONFIG_INVALID at candidates[0].modelDir)", () => {
    let error: unknown;
    try {
      parseEvalSuite({ name: "x", dataset: { version: "d" }, candidates: [{ name: "g", type: "llama-cpp", path: "m.gguf", promptFormat: "tunekit" }], metrics: ["exact_match"] });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "EVAL_CONFIG_INVALID" });
    expect((error as { details: { problems: { path: string }[] } }).details.problems.map((p) => p.path)).toEqual(["candidates[0].modelDir"]);
  });

  it("refuses promptFormat gguf on a file without a chat template (EVAL_LLAMA_CPP_NO_TEMPLATE), and answers it as plain text", async () => {
    const stories = (await exportGguf({ modelDir: STORIES260K, outDir: join(tmp, "stories"), quant: "f16" })).ggufPath;
    const request = { messages: [{ role: "user" as const, content: "Once upon a time" }], maxTokens: 8, temperature: 0 };
    const chat = new LlamaCppCandidate({ path: stories, threads: 1 });
    const plain = new LlamaCppCandidate({ path: stories, threads: 1, promptFormat: "plain" });
    try {
      await expect(chat.complete(request)).rejects.toMatchObject({ code: "EVAL_LLAMA_CPP_NO_TEMPLATE" });
      const answer = await plain.complete(request);
      expect({ promptTokens: answer.promptTokens, completionTokens: answer.completionTokens, finishReason: answer.finishReason }).toEqual({ promptTokens: 5, completionTokens: 8, finishReason: "length" });
      expect(answer.text.length).toBeGreaterThan(0);
    } finally {
      await chat.close();
      await plain.close();
    }
  }, 60_000);

  it("refuses label-constrained requests (EVAL_LLAMA_CPP_CONSTRAIN) and promptFormat tunekit without modelDir (EVAL_LLAMA_CPP_NO_MODEL_DIR)", async () => {
    const candidate = new LlamaCppCandidate({ path: right, threads: 1 });
    await expect(candidate.complete({ messages: [{ role: "user", content: "x" }], maxTokens: 4, temperature: 0, allowed: ["a", "b"] })).rejects.toMatchObject({ code: "EVAL_LLAMA_CPP_CONSTRAIN" });
    await candidate.close();
    expect(() => new LlamaCppCandidate({ path: right, promptFormat: "tunekit" })).toThrow(expect.objectContaining({ code: "EVAL_LLAMA_CPP_NO_MODEL_DIR" }));
  });
});
