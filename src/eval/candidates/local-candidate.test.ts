import { readFileSync } from "node:fs";
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../data/testing/temp-workspace.js";
import { LocalCandidate, renderPlainPrompt } from "./local-candidate.js";
import { RequestCache } from "./request-cache.js";

/** The real stories260k model through the Python worker: greedy outputs equal the committed reference. */
const modelDir = join(repoRoot, "../shared/fixtures/models/stories260k");
const expected = JSON.parse(readFileSync(join(modelDir, "EXPECTED.json"), "utf8")) as { prompts: { prompt: string; continuation_text: string }[] };
const cacheDir = mkdtempSync(join(tmpdir(), "tk-local-cache-"));
const candidate = new LocalCandidate({ modelDir, device: "cpu", cache: new RequestCache(cacheDir), stop: [], promptFormat: "plain" });
afterAll(async () => {
  await candidate.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe("local candidate (stories260k through the worker)", () => {
  it("renders chat messages as plain text", () => {
    expect(renderPlainPrompt([{ role: "system", content: "S" }, { role: "user", content: "Q1" }, { role: "assistant", content: "A1" }, { role: "user", content: "Q2" }])).toBe("S\nQ1\nA1\n\nQ2");
  });
  it("generates the reference greedy continuations, then serves them from the cache", async () => {
    const cases = expected.prompts.filter((p) => p.prompt !== "");
    const outs = await Promise.all(cases.map((p) => candidate.complete({ messages: [{ role: "user", content: p.prompt }], maxTokens: 64, temperature: 0 })));
    expect(outs.map((o) => o.text)).toEqual(cases.map((p) => p.continuation_text.trim()));
    // 64 new tokens with no stop: every answer hit maxTokens, so it is reported as truncated ("length").
    expect(outs.every((o) => o.completionTokens === 64 && !o.cached && o.finishReason === "length")).toBe(true);
    const again = await candidate.complete({ messages: [{ role: "user", content: cases[0].prompt }], maxTokens: 64, temperature: 0 });
    expect(again).toMatchObject({ cached: true, attempts: 0, text: outs[0].text, finishReason: "length" });
  });
});
