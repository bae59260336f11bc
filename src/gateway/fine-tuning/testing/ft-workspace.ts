import { writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { initWorkspace } from "../../../registry/index.js";
import { REPO_ROOT } from "../../../test-support/paths.js";

/** Test helpers of the fine-tuning API: a workspace whose gateway trains the shipped demo model in a few steps. */
export const DEMO_BASE = join(REPO_ROOT, "models", "demo-base");

const NAMES = ["Tom", "Lily", "Ben", "Mia", "Sam", "Anna", "Max", "Sue", "Tim", "Lucy", "Jack", "Amy"];
const THINGS = ["ball", "cat", "kite"];

/** OpenAI chat-format lines (one answer pattern a few LoRA steps learn): 24 training lines, or the 12 validation ones. */
export function chatLines(val: boolean): string[] {
  return NAMES.flatMap((name, i) =>
    THINGS.map((thing, j) => ({ i: i * 3 + j, line: JSON.stringify({ messages: [{ role: "user", content: `What did ${name} have?` }, { role: "assistant", content: `${name} had a red ${thing}.` }] }) })),
  )
    .filter(({ i }) => (i % 3 === 2) === val)
    .map(({ line }) => line);
}

/** OpenAI preference-format lines (DPO): the preferred answer names the thing, the other does not; 24 or 12 lines. */
export function preferenceLines(val: boolean): string[] {
  return NAMES.flatMap((name, i) =>
    THINGS.map((thing, j) => ({
      i: i * 3 + j,
      line: JSON.stringify({
        input: { messages: [{ role: "user", content: `What did ${name} have?` }] },
        preferred_output: [{ role: "assistant", content: `${name} had a red ${thing}.` }],
        non_preferred_output: [{ role: "assistant", content: "I do not know." }],
      }),
    })),
  )
    .filter(({ i }) => (i % 3 === 2) === val)
    .map(({ line }) => line);
}

/** A workspace with gateway.fineTuning set up for CPU tests: `demo-base` names the shipped demo model. */
export async function createFineTuningWorkspace(port = 0, train: Record<string, unknown> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tk-ftapi-"));
  await initWorkspace(dir);
  const gateway = {
    port,
    auth: { required: true },
    logging: { durability: "write" },
    fineTuning: {
      baseModels: { "demo-base": DEMO_BASE },
      train: { device: "cpu", seqLen: 64, lora: { r: 8, alpha: 16, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"] }, optimizer: { lr: 0.005 }, schedule: { type: "constant" }, checkpoint: { everySteps: 4, keepLast: 2 }, eval: { everySteps: 4 }, logEvery: 1, ...train },
    },
  };
  writeFileSync(join(dir, "tunekit.yaml"), stringify({ version: 1, project: { name: "ft" }, worker: { python: "/usr/bin/python3" }, gateway }));
  return dir;
}
