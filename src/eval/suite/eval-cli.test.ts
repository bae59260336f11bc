import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { commitVersion } from "../../data/versions.js";
import { createTempWorkspace, fromArray, repoRoot } from "../../data/testing/temp-workspace.js";
import type { ChatRecord } from "../../data/record.js";
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
    return req.model === "good" ? (q.match(/about (\w+)/)?.[1] ?? "") : "fee";
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
