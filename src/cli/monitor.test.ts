import { describe, expect, it } from "vitest";
import { commitVersion } from "../data/index.js";
import { fromArray } from "../data/testing/temp-workspace.js";
import { openGatewayStores, type RequestRecord } from "../gateway/index.js";
import { initWorkspace, openWorkspace } from "../registry/index.js";
import { runCli } from "../test-support/cli.js";
import { makeTempDir } from "../test-support/paths.js";

const request = (id: string, content: string): RequestRecord => ({
  id, ts: Date.now() - 60_000, model: "base", variant: "base", experiment: null, backend: "base", status: 200, errorCode: null, stream: false, latencyMs: 10,
  ttftMs: null, attempts: 1, promptTokens: 1, completionTokens: 1, costUsd: 0, keyId: null, userKey: null,
  input: JSON.stringify([{ role: "user", content }]), output: "ok", finishReason: "stop",
});

/** A workspace with a 150-record training split (plus held-out records) and `live` logged requests. */
async function workspaceWithTraffic(live: number): Promise<string> {
  const dir = makeTempDir();
  await initWorkspace(dir);
  const ws = await openWorkspace({ dir });
  try {
    const records = Array.from({ length: 200 }, (_, i) => ({
      messages: [{ role: "user" as const, content: `where is my order ${"x".repeat(i % 40)}` }, { role: "assistant" as const, content: "here" }],
      metadata: { split: i < 150 ? "train" : i < 175 ? "val" : "test" },
    }));
    await commitVersion(ws, { dataset: "support", transform: "import", params: {}, records: fromArray(records) });
    const stores = await openGatewayStores(ws.config.gateway, ws.stateDir);
    await stores.store.insertRequests(Array.from({ length: live }, (_, i) => request(`r${i}`, `привет ${"и".repeat(i * 30)}`)));
    await stores.close();
  } finally {
    await ws.close();
  }
  return dir;
}

describe("tunekit monitor", () => {
  it("reports drift over 4 requests as insufficient data, against the train split only", async () => {
    const dir = await workspaceWithTraffic(4);
    const res = runCli(["monitor", "--drift", "--dataset", "support"], { cwd: dir });
    expect([res.status, res.stderr]).toEqual([0, ""]);
    const drift = res.stdout.slice(res.stdout.indexOf("drift vs")).split("\n").slice(0, 3);
    expect(drift[0]).toBe("drift vs the training set (train split of 150 records; 50 val/test records left out) over 4 requests");
    expect(drift[1]).toMatch(/^ {2}input length PSI \d+\.\d{3} \(insufficient data \(n=4, need ≥ 100\)\)$/);
    expect(drift[2]).toMatch(/^ {2}language PSI {5}\d+\.\d{3} \(insufficient data \(n=4, need ≥ 100\)\)/);
    expect(res.stdout).not.toContain("significant");
  });

  it("says so when --alerts finds no rules configured, and exits 0", async () => {
    const dir = await workspaceWithTraffic(1);
    const res = runCli(["monitor", "--alerts"], { cwd: dir });
    expect([res.status, res.stderr]).toEqual([0, ""]);
    expect(res.stdout).toContain("no alert rules configured (gateway.alerts.rules is empty): nothing to evaluate");
    const json = runCli(["--json", "monitor", "--alerts"], { cwd: dir });
    expect([json.status, JSON.parse(json.stdout).alerts, JSON.parse(json.stdout).alertRules]).toEqual([0, [], 0]);
  });
});
