import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitVersion, type ChatRecord } from "../../data/index.js";
import { createTempWorkspace, fromArray, repoRoot } from "../../data/testing/temp-workspace.js";
import type { Workspace } from "../../registry/index.js";
import { parseEvalSuite } from "./suite-config.js";
import { runEvalSuite } from "./run-suite.js";

/**
 * Constrained decoding end to end: the real stories260k model through the worker, a tiny classification
 * dataset, and `constrain: labels` — every answer is exactly one label, while the same model unconstrained
 * tells a story.
 */
const modelDir = join(repoRoot, "../shared/fixtures/models/stories260k");
const LABELS = ["happy", "sad", "scared"];
const texts = ["Lily found a puppy in the park.", "Tom lost his red ball.", "A big dog barked at Sue.", "Ben got a cake.", "The cat ran away from the storm.", "Mia could not find her mom."];

let ws: Workspace;
beforeAll(async () => {
  ws = await createTempWorkspace();
  const records: ChatRecord[] = texts.map((t, i) => ({
    messages: [
      { role: "user", content: t },
      { role: "assistant", content: LABELS[i % 3] },
    ],
    metadata: { id: `s-${i}`, split: "test" },
  }));
  await commitVersion(ws, { dataset: "feelings", transform: "import", params: {}, records: fromArray(records) });
  await commitVersion(ws, { dataset: "unlabelled", transform: "import", params: {}, records: fromArray(texts.map((text) => ({ text, metadata: { split: "test" } }))) });
});
afterAll(async () => {
  await ws.close();
});

const local = { type: "local", modelDir, promptFormat: "plain", prompt: { template: "{{input}} She felt" }, maxTokens: 8 };

describe("constrain: labels on a local candidate", () => {
  it("answers with one of the labels only (stories260k through the worker)", async () => {
    const suite = parseEvalSuite({
      name: "feelings",
      dataset: { version: "feelings" },
      candidates: [
        { ...local, name: "constrained", constrain: "labels" },
        { ...local, name: "free" },
      ],
      metrics: ["accuracy", "exact_match"],
      classification: { labels: LABELS },
      statistics: { resamples: 100 },
    });
    const outcome = await runEvalSuite(ws, suite, { baseDir: ws.root });
    const [constrained, free] = outcome.summary.candidates;
    expect(constrained.failures).toBe(0);
    // Every constrained answer is exactly a label, so exact match and accuracy agree.
    expect(constrained.metrics.exact_match.value).toBe(constrained.metrics.accuracy.value);
    expect(constrained.truncated).toBe(0);
    expect(free.metrics.exact_match.value).toBe(0);
    const run = await ws.registry.getRun(outcome.runId);
    const cfg = run.config as { candidates: { name: string; constrain: string | null }[]; labels: string[] };
    expect(cfg.candidates.map((c) => c.constrain)).toEqual(["labels", null]);
    expect(cfg.labels).toEqual(LABELS);
    const artifact = await ws.artifacts.getArtifact(outcome.resultsArtifactId);
    const rows = readFileSync(ws.artifacts.absolutePath(artifact), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { candidates: Record<string, { output: string; finishReason: string }> });
    expect(rows).toHaveLength(texts.length);
    for (const r of rows) {
      expect(LABELS).toContain(r.candidates.constrained.output);
      expect(r.candidates.constrained.finishReason).toBe("stop");
      expect(LABELS).not.toContain(r.candidates.free.output);
    }
  });

  it("refuses constrain: labels on an OpenAI-compatible candidate", () => {
    expect(() =>
      parseEvalSuite({ name: "x", dataset: { version: "feelings" }, candidates: [{ name: "api", type: "openai", model: "gpt-4o-mini", constrain: "labels" }], metrics: ["accuracy"] }),
    ).toThrow(/candidates\[0\]\.constrain = "labels": constrained decoding needs a local candidate: an OpenAI-compatible API can bias single tokens, not restrict answers to multi-token labels; fix: use constrain: labels with a local candidate \(type: local\)/);
  });

  it("refuses constrain: labels when there is no label set", async () => {
    const suite = parseEvalSuite({ name: "x", dataset: { version: "unlabelled" }, candidates: [{ ...local, name: "c", constrain: "labels" }], metrics: ["token_f1"] });
    await expect(runEvalSuite(ws, suite, { baseDir: ws.root })).rejects.toMatchObject({
      code: "EVAL_CONSTRAIN_NO_LABELS",
      message: "candidates c use constrain: labels, but there is no label set: classification.labels is not set and the dataset's references are empty",
    });
  });
});
