import { rmSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitVersion, type ChatRecord } from "../data/index.js";
import { initWorkspace, openWorkspace } from "../registry/index.js";
import { startTrainRun, parseTrainSpec, resolveTrainSpec } from "../train/index.js";
import { REPO_ROOT } from "../test-support/paths.js";
import { BASE_SPEC, runCli } from "../train/testing/train-fixtures.js";

/**
 * Issue #19 item 12: `generate` on a chat-trained adapter asked a plain prompt the model never saw. A LoRA on the
 * shipped demo model (ChatML, `<|im_end|>` a token) learns a one-line answer; generate must ask it in ChatML.
 */
const NAMES = ["Tom", "Lily", "Ben", "Mia", "Sam", "Anna", "Max", "Sue", "Tim", "Lucy", "Jack", "Amy"];
const THINGS = ["ball", "cat", "kite"];

function chatRecords(): ChatRecord[] {
  return NAMES.flatMap((name, i) =>
    THINGS.map((thing, j) => ({
      messages: [
        { role: "user" as const, content: `What did ${name} have?` },
        { role: "assistant" as const, content: `${name} had a red ${thing}.` },
      ],
      metadata: { id: `c${i}-${j}`, split: (i * 3 + j) % 6 === 5 ? "val" : "train" },
    })),
  );
}

describe("tunekit generate on a registered chat fine-tune", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tk-gen-chat-"));
    await initWorkspace(dir);
    writeFileSync(join(dir, "tunekit.yaml"), stringify({ version: 1, project: { name: "t" }, worker: { python: "/usr/bin/python3" } }));
    const ws = await openWorkspace({ dir });
    try {
      const records = chatRecords();
      await commitVersion(ws, { dataset: "chats", transform: "import", params: {}, records: (async function* () { yield* records; })() });
      const spec = parseTrainSpec({ ...BASE_SPEC, model: join(REPO_ROOT, "models", "demo-base"), dataset: "chats", name: "chat-lora", maxSteps: 24, eval: { everySteps: 24 }, checkpoint: { everySteps: 24, keepLast: 1 } });
      const { model } = await startTrainRun(ws, await resolveTrainSpec(ws, spec), { handleSignals: false });
      expect(model?.name).toBe("chat-lora");
    } finally {
      await ws.close();
    }
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("applies the chat template by default and answers with more than 0 tokens", async () => {
    const r = await runCli(["--workspace", dir, "--json", "generate", "--model", "chat-lora", "--prompt", "What did Tom have?", "--max-new-tokens", "24", "--device", "cpu"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ chat: true, template: null, prompt: "<|im_start|>user\nWhat did Tom have?<|im_end|>\n<|im_start|>assistant\n", finishReason: "stop" });
    expect(out.completionTokens).toBeGreaterThan(0);
    // 24 steps teach the answer's shape (the name is not reliably learned) and the end of the turn.
    expect(out.text).toMatch(/^[A-Z][a-z]+ had a red (ball|cat|kite)\.$/);
  });

  it("--no-chat continues the prompt as plain text", async () => {
    const r = await runCli(["--workspace", dir, "--json", "generate", "--model", "chat-lora", "--prompt", "What did Tom have?", "--no-chat", "--max-new-tokens", "4", "--device", "cpu"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ chat: false, template: null, prompt: "What did Tom have?" });
  });

  it("refuses --system without a chat prompt", async () => {
    const r = await runCli(["--workspace", dir, "generate", "--model", "chat-lora", "--prompt", "x", "--no-chat", "--system", "be brief"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("CLI_BAD_OPTION");
    expect(r.stderr).toContain("--system applies to chat prompts");
  });
});
