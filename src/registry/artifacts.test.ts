import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { initWorkspace, openWorkspace } from "./index.js";
import { REPO_ROOT, makeTempDir } from "../test-support/paths.js";

describe("artifacts", () => {
  it("stores content-addressed files and verifies them", async () => {
    const dir = makeTempDir();
    await initWorkspace(dir);
    const ws = await openWorkspace({ dir, env: {} });
    const sha = createHash("sha256").update("hello\n").digest("hex");
    const a = await ws.artifacts.putBytes("hello\n", { kind: "note", ext: "txt" });
    expect([a.sha256, a.path, a.size]).toEqual([sha, join("artifacts", sha.slice(0, 2), `${sha}.txt`), 6]);
    expect(readFileSync(ws.artifacts.absolutePath(a), "utf8")).toBe("hello\n");
    expect(await ws.artifacts.verify(a)).toBe(true);
    const writer = await ws.artifacts.createWriter({ kind: "partial" });
    await writer.write("never committed");
    await writer.abort();
    expect(readdirSync(join(ws.stateDir, "tmp"))).toEqual([]);
    await ws.close();
  });

  it("never leaves a torn file when the writer is killed with SIGKILL mid-write", async () => {
    const target = join(makeTempDir(), "state.bin");
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ["--import", "tsx", `${REPO_ROOT}/src/test-support/atomic-writer.ts`, target]);
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      await new Promise((r) => setTimeout(r, 150 + round * 70));
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      const bytes = readFileSync(target);
      const whole = (bytes.length === 4 * 1024 * 1024 && bytes.every((b) => b === 97)) || (bytes.length === 6 * 1024 * 1024 && bytes.every((b) => b === 98));
      expect(whole, `round ${round}: ${bytes.length} bytes, not one whole version`).toBe(true);
    }
  }, 60_000);
});
