import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { runLoad, spawnGateway } from "./testing/load.js";
import { StubUpstream } from "./testing/stub-upstream.js";

/**
 * Open-loop load at 300 req/s; `target` is read per request, so a restarted gateway gets the rest. It runs until
 * `restarted()` has been called and 100 more requests were acknowledged, or 40 s: a restart on a loaded 2-core
 * machine can take seconds (tsx start-up alone), so a fixed duration would leave the restarted gateway no traffic.
 * `acked`: ids answered 200.
 */
function startAckedLoad(target: () => string): { acked: Set<string>; load: ReturnType<typeof runLoad>; restarted: () => void } {
  const acked = new Set<string>();
  let ackedAtRestart: number | undefined;
  const body = JSON.stringify({ model: "base", messages: [{ role: "user", content: "hello" }] });
  const load = runLoad({
    url: target(),
    target,
    rate: 300,
    durationMs: 40_000,
    maxRequests: 12_000,
    stopWhen: () => ackedAtRestart !== undefined && acked.size >= ackedAtRestart + 100,
    body,
    onResponse: (status, headers) => {
      if (status === 200) acked.add(headers["x-tunekit-request-id"] as string);
    },
  });
  return { acked, load, restarted: () => void (ackedAtRestart = acked.size) };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

describe("request log durability", () => {
  it("loses no acknowledged record when the gateway is SIGKILLed under load and restarted", async () => {
    const up = await StubUpstream.start();
    const stateDir = mkdtempSync(join(tmpdir(), "tunekit-dur-"));
    const config = { port: 0, auth: { required: false }, logging: { durability: "fsync", flushMs: 500, batchSize: 100000 }, routes: [{ name: "base", baseUrl: up.url }] };
    try {
      let gw = await spawnGateway(config, stateDir);
      let url = gw.url;
      const { acked, load, restarted } = startAckedLoad(() => `${url}/v1/chat/completions`);
      await waitFor(() => acked.size > 60, 30_000); // enough acknowledged before the kill, however slow the machine
      const ackedBeforeKill = acked.size;
      gw.child.kill("SIGKILL"); // batches of 100000 every 500 ms: most acknowledged records are only in the write-ahead log
      await new Promise((r) => gw.child.once("exit", r));
      gw = await spawnGateway({ ...config, port: Number(new URL(url).port) }, stateDir);
      url = gw.url;
      restarted();
      const result = await load;
      expect(gw.replayed).toBeGreaterThan(0);
      gw.child.kill("SIGTERM");
      await new Promise((r) => gw.child.once("exit", r));
      const db = new Database(join(stateDir, "gateway.db"), { readonly: true });
      const stored = new Set((db.prepare("SELECT id FROM requests").all() as { id: string }[]).map((r) => r.id));
      db.close();
      const lost = [...acked].filter((id) => !stored.has(id));
      expect(ackedBeforeKill).toBeGreaterThan(50);
      expect(acked.size).toBeGreaterThan(ackedBeforeKill + 50);
      expect(result.ok).toBe(acked.size);
      expect(lost).toEqual([]);
    } finally {
      await up.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 150_000);

  it("with two gateways on one workspace, the second leaves the first's live segment alone: SIGKILL of the first loses nothing", async () => {
    const up = await StubUpstream.start();
    const stateDir = mkdtempSync(join(tmpdir(), "tunekit-dur2-"));
    const config = { port: 0, auth: { required: false }, logging: { durability: "fsync", flushMs: 500, batchSize: 100000 }, routes: [{ name: "base", baseUrl: up.url }] };
    const children: import("node:child_process").ChildProcess[] = [];
    try {
      let first = await spawnGateway(config, stateDir);
      children.push(first.child);
      let url = first.url;
      const { acked, load, restarted } = startAckedLoad(() => `${url}/v1/chat/completions`);
      await new Promise((r) => setTimeout(r, 600));
      // The bug: this second start replayed and deleted the segment the first was still appending to.
      const second = await spawnGateway(config, stateDir);
      children.push(second.child);
      expect(second.replayed).toBe(0);
      expect(readdirSync(join(stateDir, "gateway-wal")).length).toBe(2); // one folder per live gateway
      await waitFor(() => acked.size > 60, 30_000); // enough acknowledged before the kill, however slow the machine
      const ackedBeforeKill = acked.size;
      first.child.kill("SIGKILL");
      await new Promise((r) => first.child.once("exit", r));
      first = await spawnGateway({ ...config, port: Number(new URL(url).port) }, stateDir);
      children.push(first.child);
      url = first.url;
      restarted();
      const result = await load;
      expect(first.replayed).toBeGreaterThan(0); // the dead first gateway's folder, and only that
      for (const g of [first, second]) {
        g.child.kill("SIGTERM");
        await new Promise((r) => g.child.once("exit", r));
      }
      const db = new Database(join(stateDir, "gateway.db"), { readonly: true });
      const stored = new Set((db.prepare("SELECT id FROM requests").all() as { id: string }[]).map((r) => r.id));
      db.close();
      expect(ackedBeforeKill).toBeGreaterThan(50);
      expect(result.ok).toBe(acked.size);
      expect([...acked].filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      await up.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 150_000);
});
