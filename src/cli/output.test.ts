import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { initWorkspace, openWorkspace } from "../registry/index.js";
import { CLI, makeTempDir } from "../test-support/paths.js";

/** Runs the CLI with its stdout pipe already closed by the reader, as `tunekit … | head -1` ends up. */
function runIntoClosedPipe(args: string[], cwd: string): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += String(d)));
    child.stdout.destroy();
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe("output into a closed pipe", () => {
  it("`runs show RUN | head` and `config show | head` exit quietly with status 0, not an EPIPE stack trace", async () => {
    const dir = makeTempDir();
    await initWorkspace(dir);
    const ws = await openWorkspace({ dir, env: {} });
    const run = await ws.registry.createRun({ kind: "train", config: { provider: "local", notes: "x".repeat(200) } });
    await ws.close();
    expect(await runIntoClosedPipe(["runs", "show", run.id], dir)).toEqual({ code: 0, signal: null, stderr: "" });
    expect(await runIntoClosedPipe(["--json", "config", "show"], dir)).toEqual({ code: 0, signal: null, stderr: "" });
  }, 60_000);
});
