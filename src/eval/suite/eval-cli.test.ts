import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { commitVersion, type ChatRecord } from "../../data/index.js";
import { createTempWorkspace, fromArray, repoRoot } from "../../data/testing/temp-workspace.js";
import type { Workspace } from "../../registry/index.js";
import { startChatStub, type ChatStubServer } from "../testing/chat-stub-server.js";

/** `tunekit eval run|report` and `tunekit advise` as a user runs them (the real bin, --json documents). */
const exec = promisify(execFile);
const CLI = join(repoRoot, "bin/tunekit.js");
let ws: Workspace;
let server: ChatStubServer;

beforeAll(async () => {
  ws = await createTempWorkspace();
  const labels = ["refund", "card_arrival", "fee"];
  const records: ChatRecord[] = Array.from({ length: 90 }, (_, i) => ({
    messages: [
      { role: "user", content: `question ${i} about ${labels[i % 3]}` },
      { role: "assistant", content: labels[i % 3] },
    ],
    metadata: { split: i % 3 === 0 && i % 2 === 0 ? "test" : "train" },
  }));
  await commitVersion(ws, { dataset: "tiny", transform: "import", params: {}, records: fromArray(records) });
  server = await startChatStub((req) => {
    const q = req.messages.at(-1)!.content;
    return req.model === "good" || req.model === "gpt-4o-mini" ? (q.match(/about (\w+)/)?.[1] ?? "") : "fee";
  });
  writeFileSync(
    join(ws.root, "eval.yaml"),
    stringify({
      name: "cli",
      dataset: { version: "tiny" },
      candidates: [
        { name: "weak", type: "openai", model: "weak", baseURL: server.url, pricing: { inputPerMTok: 1, outputPerMTok: 1 } },
        { name: "good", type: "openai", model: "good", baseURL: server.url, pricing: { inputPerMTok: 1, outputPerMTok: 1 } },
      ],
      metrics: ["accuracy"],
      volume: { requestsPerMonth: 1000 },
    }),
  );
});
afterAll(async () => {
  await server.close();
  await ws.close();
});

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await exec(process.execPath, [CLI, "--workspace", ws.root, ...args], { cwd: ws.root });
    return { ...r, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

describe("tunekit eval / advise CLI", () => {
  it("runs an eval, writes the report, and advises", async () => {
    const run = await cli("--json", "eval", "run", "--config", join(ws.root, "eval.yaml"));
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { runId: string; summary: { verdicts: string[]; candidates: { metrics: { accuracy: { value: number } } }[] } };
    expect(doc.summary.candidates.map((c) => c.metrics.accuracy.value)).toEqual([0, 1]); // test split (i % 6 === 0) holds only "refund"; weak always says "fee"
    expect(doc.summary.verdicts[0]).toMatch(/^good beats weak by 100\.0 points accuracy/);

    const report = await cli("eval", "report", doc.runId, "--out", join(ws.root, "out"));
    expect(report.code).toBe(0);
    expect(existsSync(join(ws.root, "out", "report.html"))).toBe(true);

    const advice = await cli("--json", "advise", "--eval", doc.runId, "--target", "0.9");
    expect(advice.code).toBe(0);
    expect(JSON.parse(advice.stdout)).toMatchObject({ runId: doc.runId, recommendation: "keep-prompting", numbers: { bestPrompt: "good", bestPromptValue: 1, trainExamples: 75, labels: 3 } });
  });

  const suite = (name: string, candidates: Record<string, unknown>[]) => {
    const path = join(ws.root, `${name}.yaml`);
    writeFileSync(path, stringify({ name, dataset: { version: "tiny" }, candidates, metrics: ["accuracy"], volume: { requestsPerMonth: 1000 }, statistics: { resamples: 100 } }));
    return path;
  };
  const evalRun = async (path: string) => (JSON.parse((await cli("--json", "eval", "run", "--config", path)).stdout) as { runId: string }).runId;
  const pricing = { inputPerMTok: 1, outputPerMTok: 1 };
  const weak = () => ({ name: "weak", type: "openai", model: "weak", baseURL: server.url, pricing });
  const fewShot = { k: 3 };

  it("advise refuses an eval without a baseline candidate", async () => {
    const tunedOnly = await evalRun(suite("tuned-only", [{ ...weak(), fineTuned: true }, { name: "good", type: "openai", model: "good", baseURL: server.url, pricing, fineTuned: true }]));
    const refused = await cli("--json", "advise", "--eval", tunedOnly, "--target", "0.9");
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: "EVAL_NO_BASELINE", message: "the eval has no baseline candidate: every candidate (weak, good) is fine-tuned, so there is no prompted base model to compare against" } });
  });

  // Several CLI processes in one test: a longer limit for a loaded machine.
  it("advise prices training only from --train-price or the catalog, else says it is unavailable", { timeout: 180_000 }, async () => {
    // "good" is in no price catalog: no training cost instead of an assumed $3/M.
    const unknown = await evalRun(suite("unknown-price", [weak(), { name: "good", type: "openai", model: "good", baseURL: server.url, pricing, prompt: { fewShot } }]));
    const noPrice = JSON.parse((await cli("--json", "advise", "--eval", unknown, "--target", "0.9")).stdout) as { numbers: Record<string, unknown>; reasons: string[] };
    expect(noPrice.numbers).toMatchObject({ estimatedTrainingCost: null, breakEvenMonths: null });
    expect(noPrice.reasons.some((r) => r.includes("no training price is known for good — pass --train-price USD_PER_MTOK"))).toBe(true);
    const flagged = JSON.parse((await cli("--json", "advise", "--eval", unknown, "--train-price", "8")).stdout) as { numbers: Record<string, unknown> };
    expect(flagged.numbers).toMatchObject({ trainPricePerMTok: 8, trainPriceSource: "--train-price" });

    // gpt-4o-mini is in the catalog: its training price is used and named.
    const known = await evalRun(suite("catalog-price", [weak(), { name: "mini", type: "openai", model: "gpt-4o-mini", baseURL: server.url, pricing, prompt: { fewShot } }]));
    const catalog = JSON.parse((await cli("--json", "advise", "--eval", known, "--target", "0.9")).stdout) as { numbers: Record<string, unknown> };
    expect(catalog.numbers).toMatchObject({ bestPrompt: "mini", trainPricePerMTok: 3, trainPriceSource: "catalog openai/gpt-4o-mini-2024-07-18" });
    expect(typeof catalog.numbers.estimatedTrainingCost).toBe("number");
  });

  it("reports config problems and a missing config with stable codes", async () => {
    writeFileSync(join(ws.root, "bad.yaml"), stringify({ name: "x", dataset: { version: "tiny" }, candidates: [], metrics: ["bleu", "nope"] }));
    const bad = await cli("--json", "eval", "run", "--config", join(ws.root, "bad.yaml"));
    expect(bad.code).not.toBe(0);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: "EVAL_CONFIG_INVALID" } });
    expect(bad.stderr).toContain("candidates");
    expect(bad.stderr).toContain("metrics[1]");
    const missing = await cli("eval", "run", "--config", join(ws.root, "nope.yaml"));
    expect(missing.stderr).toContain("EVAL_CONFIG_NOT_FOUND");
  });
});
