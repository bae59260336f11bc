import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GatewaySectionSchema } from "../config/index.js";
import { AlertScheduler } from "./alert-scheduler.js";
import type { FeedbackRecord, RequestRecord } from "./records.js";

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const req = (id: string, ts: number, status: number): RequestRecord => ({
  id, ts, model: "m", variant: "a", experiment: null, backend: "a", status, errorCode: status >= 400 ? "X" : null, stream: false, latencyMs: 10, ttftMs: null,
  attempts: 1, promptTokens: 1, completionTokens: 1, costUsd: 0, keyId: null, userKey: null, input: null, output: null, finishReason: null,
});

/** An in-memory request log: the scheduler only reads through these two calls. */
function memoryStore(requests: RequestRecord[]) {
  const calls: { since?: number }[] = [];
  return {
    calls,
    listRequests: async (filter: { since?: number } = {}) => (calls.push(filter), requests.filter((r) => r.ts >= (filter.since ?? 0))),
    listFeedback: async (): Promise<FeedbackRecord[]> => [],
  };
}

const alertsConfig = (rules: unknown[], intervalSeconds = 60) =>
  GatewaySectionSchema.parse({ alerts: { intervalSeconds, webhookUrl: "http://127.0.0.1:9/hook", rules } }).alerts;

describe("alert scheduler", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
  });
  afterEach(() => vi.useRealTimers());

  it("checks every intervalSeconds over the latest window, posts crossed rules, and stops", async () => {
    const requests = Array.from({ length: 10 }, (_, i) => req(`r${i}`, NOW - i * 1000, i < 5 ? 500 : 200));
    const store = memoryStore(requests);
    const posted: unknown[] = [];
    const fetchImpl = (async (_url: string, init: RequestInit) => (posted.push(JSON.parse(String(init.body))), new Response(null, { status: 204 }))) as unknown as typeof fetch;
    let drains = 0;
    const scheduler = AlertScheduler.start({
      alerts: alertsConfig([{ metric: "error_rate", threshold: 0.2, windowMinutes: 5, minRequests: 10 }]),
      store,
      drain: async () => void drains++,
      fetchImpl,
    });
    expect(scheduler.active).toBe(true);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(store.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect([drains, store.calls]).toEqual([1, [{ since: NOW + 60_000 - 5 * 60_000 }]]);
    expect(posted).toEqual([
      { source: "tunekit-gateway", metric: "error_rate", variant: "a", value: 0.5, threshold: 0.2, op: ">", message: "error_rate of a is 0.5 (> 0.2) over the last 5 min", ts: new Date(NOW + 60_000).toISOString() },
    ]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(scheduler.stats).toEqual({ checks: 2, skipped: 0 });
    await scheduler.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect([scheduler.active, scheduler.stats.checks, vi.getTimerCount()]).toEqual([false, 2, 0]);
  });

  it("creates no timer without rules, and skips drift_psi rules (monitor --drift evaluates them)", async () => {
    const none = AlertScheduler.start({ alerts: alertsConfig([]), store: memoryStore([]), drain: async () => undefined });
    expect([none.active, vi.getTimerCount()]).toEqual([false, 0]);
    const store = memoryStore([]);
    const drift = AlertScheduler.start({ alerts: alertsConfig([{ metric: "drift_psi", threshold: 0.25 }], 1), store, drain: async () => undefined });
    await vi.advanceTimersByTimeAsync(3000);
    expect([drift.stats.checks, store.calls]).toEqual([0, []]);
    await drift.stop();
  });

  it("skips a tick while the previous check is still running, and stop() waits for it", async () => {
    let release!: () => void;
    const slowDrain = () => new Promise<void>((r) => (release = r));
    const scheduler = AlertScheduler.start({ alerts: alertsConfig([{ metric: "error_rate", threshold: 0.5 }], 1), store: memoryStore([]), drain: slowDrain });
    await vi.advanceTimersByTimeAsync(3500); // ticks at 1 s (starts, hangs in drain), 2 s and 3 s (skipped)
    expect(scheduler.stats).toEqual({ checks: 1, skipped: 2 });
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect([stopped, vi.getTimerCount()]).toEqual([true, 0]);
  });
});
