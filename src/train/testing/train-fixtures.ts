import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { commitVersion, type TextRecord } from "../../data/index.js";
import { initWorkspace, openWorkspace } from "../../registry/index.js";

/** Test helpers for src/train and the training CLI: the real stories260k model and a tiny story dataset. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const STORIES260K = join(repoRoot, "../shared/fixtures/models/stories260k");
export const CLI = join(repoRoot, "bin/tunekit.js");

const NAMES = ["Tom", "Lily", "Ben", "Mia", "Sam", "Anna", "Max", "Sue", "Tim", "Lucy", "Jack", "Amy", "Bob", "Zoe"];
const THINGS = ["ball", "cat", "kite", "box", "hat", "dog"];
const COLORS = ["red", "blue", "big", "small"];

/** Short stories in one repeated pattern: a few LoRA steps learn it, so val loss must fall. */
export function storyRecords(): TextRecord[] {
  const records: TextRecord[] = [];
  let i = 0;
  for (const name of NAMES) {
    for (const thing of THINGS.slice(0, 3)) {
      const color = COLORS[i % COLORS.length];
      const split = i % 6 === 5 ? "val" : "train";
      records.push({
        text: `${name} had a ${color} ${thing}. ${name} loved the ${color} ${thing} very much. Every day ${name} played with the ${color} ${thing} in the park.`,
        metadata: { id: `s${i}`, split },
      });
      i++;
    }
  }
  return records;
}

/** A fresh workspace holding dataset "stories" (version 1, train and val records). */
export async function createStoriesWorkspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tk-train-"));
  await initWorkspace(dir);
  writeFileSync(join(dir, "tunekit.yaml"), stringify({ version: 1, project: { name: "t" }, worker: { python: "/usr/bin/python3" } }));
  const ws = await openWorkspace({ dir });
  try {
    const records = storyRecords();
    await commitVersion(ws, {
      dataset: "stories",
      transform: "import",
      params: {},
      records: (async function* () {
        yield* records;
      })(),
    });
  } finally {
    await ws.close();
  }
  return dir;
}

export function writeSpec(dir: string, spec: Record<string, unknown>, file = "train.yaml"): string {
  const path = join(dir, file);
  writeFileSync(path, stringify(spec));
  return path;
}

export const BASE_SPEC = {
  model: STORIES260K,
  dataset: "stories",
  method: "lora",
  lora: { r: 8, alpha: 16, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"] },
  optimizer: { lr: 0.01 },
  schedule: { type: "constant" },
  batchSize: 4,
  seqLen: 64,
  packing: true,
  maxSteps: 12,
  eval: { everySteps: 4 },
  checkpoint: { everySteps: 2, keepLast: 2 },
  device: "cpu",
};

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in a child process; `onStderr` / `onStdout` see the output so far as it arrives (e.g. to kill mid-run). */
export function runCli(
  args: string[],
  options: { onStderr?: (text: string, child: ReturnType<typeof spawn>) => void; onStdout?: (text: string, child: ReturnType<typeof spawn>) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      options.onStderr?.(stderr, child);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
