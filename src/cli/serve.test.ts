import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initWorkspace } from "../registry/index.js";
import { makeTempDir } from "../test-support/paths.js";
import { runCli } from "../train/testing/train-fixtures.js";

describe("tunekit serve: its run", () => {
  let dir: string;
  beforeAll(async () => {
    dir = makeTempDir();
    await initWorkspace(dir, { name: "t" });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("shows a SIGKILLed gateway's run as interrupted, not running forever", async () => {
    const killed = await runCli(["--workspace", dir, "serve", "--port", "0"], {
      onStdout: (text, child) => {
        if (/gateway listening on/.test(text) && !child.killed) child.kill("SIGKILL");
      },
    });
    expect(killed.signal).toBe("SIGKILL");
    const runId = /\(run (run_\w+);/.exec(killed.stdout)![1];
    const list = await runCli(["--workspace", dir, "--json", "runs", "list", "--kind", "serve"]);
    expect(list.code, list.stderr).toBe(0);
    const [run] = JSON.parse(list.stdout).runs;
    expect([run.id, run.status, run.error.code, run.error.fix]).toEqual([runId, "interrupted", "RUN_OWNER_GONE", "start the gateway again with `tunekit serve`; requests it acknowledged are replayed from its log"]);
  }, 60_000);
});
