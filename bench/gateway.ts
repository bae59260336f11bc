/**
 * Gateway overhead and durability, loopback only, figures relative to calling the stub upstream directly in the
 * same run. Usage: node --import tsx bench/gateway.ts [--rate 1000] [--seconds 10] [--durability-seconds 60]
 *   1. direct: load → stub upstream (its own process)
 *   2. via the gateway (its own process) with durability fsync, write and memory: added latency p50/p99
 *   3. streaming pass-through: chunk arrival times through the gateway
 *   4. SIGKILL + restart midway through a load: acknowledged records lost (must be 0)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import Database from "better-sqlite3";
import OpenAI from "openai";
import { percentileOf, runLoad, spawnGateway } from "../src/gateway/testing/load.js";
import { numberFlag } from "./flags.js";

const RATE = numberFlag("rate", 1000);
const SECONDS = numberFlag("seconds", 10);
const DUR_SECONDS = numberFlag("durability-seconds", 60);
const body = JSON.stringify({ model: "base", messages: [{ role: "user", content: "What are your opening hours on Saturday?" }] });

async function startStub(behaviour: Record<string, unknown>) {
  const script = new URL("../src/gateway/testing/stub-process.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, ["--import", "tsx", script, JSON.stringify(behaviour)], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).on("line", (l) => l.startsWith("READY ") && resolve(l.slice(6))));
  return { url, stop: () => child.kill("SIGTERM") };
}

async function measure(url: string, label: string) {
  // warm-up (JIT, keep-alive sockets), then the measured run
  await runLoad({ url, rate: RATE, durationMs: 2000, maxRequests: RATE * 2, body });
  const r = await runLoad({ url, rate: RATE, durationMs: SECONDS * 1000, maxRequests: RATE * SECONDS, body });
  const out = { label, sent: r.sent, ok: r.ok, failed: r.failed, p50: percentileOf(r.latenciesMs, 50), p99: percentileOf(r.latenciesMs, 99), achievedRps: r.ok / SECONDS };
  console.log(`${label.padEnd(22)} ok ${r.ok}/${r.sent}  p50 ${out.p50.toFixed(3)} ms  p99 ${out.p99.toFixed(3)} ms`);
  return out;
}

const stub = await startStub({});
const results: Record<string, unknown> = { rate: RATE, seconds: SECONDS };
try {
  const direct = await measure(`${stub.url}/chat/completions`, "direct");
  results.direct = direct;
  for (const durability of ["fsync", "write", "memory"] as const) {
    const dir = mkdtempSync(join(tmpdir(), "tunekit-bench-"));
    const gw = await spawnGateway({ port: 0, auth: { required: false }, logging: { durability }, routes: [{ name: "base", baseUrl: stub.url }] }, dir);
    const m = await measure(`${gw.url}/v1/chat/completions`, `gateway (${durability})`);
    const added = { p50: m.p50 - direct.p50, p99: m.p99 - direct.p99 };
    console.log(`${"".padEnd(22)} added p50 ${added.p50.toFixed(3)} ms  p99 ${added.p99.toFixed(3)} ms  (ratio p50 ${(m.p50 / direct.p50).toFixed(2)}×)`);
    results[`gateway_${durability}`] = { ...m, addedP50: added.p50, addedP99: added.p99 };
    gw.child.kill("SIGTERM");
    await new Promise((r) => gw.child.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
} finally {
  stub.stop();
}

// Streaming pass-through: 8 chunks 25 ms apart must reach the client spread out, not batched at the end.
{
  const slow = await startStub({ reply: "a b c d e f g h", chunkDelayMs: 25 });
  const dir = mkdtempSync(join(tmpdir(), "tunekit-bench-"));
  const gw = await spawnGateway({ port: 0, auth: { required: false }, routes: [{ name: "base", baseUrl: slow.url }] }, dir);
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "x" });
  const t0 = performance.now();
  const times: number[] = [];
  for await (const _ of await client.chat.completions.create({ model: "base", stream: true, messages: [{ role: "user", content: "x" }] })) times.push(performance.now() - t0);
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  const passThrough = gaps.filter((g) => g > 15).length >= 7;
  console.log(`streaming: ${times.length} chunks at ${times.map((t) => t.toFixed(0)).join(", ")} ms → ${passThrough ? "token by token" : "BATCHED"}`);
  results.streaming = { chunks: times.length, arrivalsMs: times.map((t) => Math.round(t)), passThrough };
  gw.child.kill("SIGTERM");
  await new Promise((r) => gw.child.once("exit", r));
  slow.stop();
  rmSync(dir, { recursive: true, force: true });
}

// Durability: load for DUR_SECONDS, SIGKILL at the midpoint, restart on the same port, count lost acknowledged records.
{
  const up = await startStub({});
  const dir = mkdtempSync(join(tmpdir(), "tunekit-bench-"));
  const config = { port: 0, auth: { required: false }, routes: [{ name: "base", baseUrl: up.url }] };
  let gw = await spawnGateway(config, dir);
  let url = gw.url;
  const acked = new Set<string>();
  const rate = Math.min(RATE, 500);
  const load = runLoad({
    url: `${url}/v1/chat/completions`,
    target: () => `${url}/v1/chat/completions`,
    rate,
    durationMs: DUR_SECONDS * 1000,
    maxRequests: rate * DUR_SECONDS,
    body,
    onResponse: (s, h) => s === 200 && void acked.add(h["x-tunekit-request-id"] as string),
  });
  await new Promise((r) => setTimeout(r, (DUR_SECONDS * 1000) / 2));
  gw.child.kill("SIGKILL");
  await new Promise((r) => gw.child.once("exit", r));
  const downAt = performance.now();
  gw = await spawnGateway({ ...config, port: Number(new URL(url).port) }, dir);
  const downMs = performance.now() - downAt;
  url = gw.url;
  const r = await load;
  gw.child.kill("SIGTERM");
  await new Promise((res) => gw.child.once("exit", res));
  const db = new Database(join(dir, "gateway.db"), { readonly: true });
  const stored = new Set((db.prepare("SELECT id FROM requests").all() as { id: string }[]).map((x) => x.id));
  db.close();
  const lost = [...acked].filter((id) => !stored.has(id)).length;
  console.log(`durability: ${DUR_SECONDS}s at ${rate}/s, SIGKILL midway (restart ${downMs.toFixed(0)} ms, replayed ${gw.replayed}): acknowledged ${acked.size}, failed during restart ${r.failed}, stored ${stored.size}, lost ${lost}`);
  results.durability = { seconds: DUR_SECONDS, rate, acknowledged: acked.size, failed: r.failed, stored: stored.size, replayed: gw.replayed, lost, restartMs: Math.round(downMs) };
  up.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(results));
