import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs, sleep, withRetry, type RetryPolicy } from "./retry.js";

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };
class Transient extends Error {
  constructor(readonly retryAfterMs?: number) {
    super("transient");
  }
}
const classify = (error: unknown) => ({ retry: error instanceof Transient, retryAfterMs: error instanceof Transient ? error.retryAfterMs : undefined });

describe("backoffDelayMs", () => {
  it("jitters under a cap that doubles per attempt and stops at maxDelayMs", () => {
    const top = () => 0.999;
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, policy, top))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(200);
  });

  it("waits at least Retry-After, capped at maxDelayMs", () => {
    expect([backoffDelayMs(1, policy, () => 0, 250), backoffDelayMs(1, policy, () => 0, 60_000), backoffDelayMs(1, policy, () => 0.5, 10)]).toEqual([250, 1000, 50]);
  });
});

describe("parseRetryAfterMs", () => {
  it("reads delta-seconds and HTTP dates, and ignores what it cannot read", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect([
      parseRetryAfterMs("2", now), parseRetryAfterMs("0.5", now), parseRetryAfterMs(["3"], now),
      parseRetryAfterMs("Thu, 01 Jan 2026 00:00:05 GMT", now), parseRetryAfterMs("Wed, 31 Dec 2025 23:00:00 GMT", now),
      parseRetryAfterMs("soon", now), parseRetryAfterMs("", now), parseRetryAfterMs(undefined, now),
    ]).toEqual([2000, 500, 3000, 5000, 0, undefined, undefined, undefined]);
  });
});

describe("isRetryableStatus", () => {
  it("retries no response, 408, 409, 429 and 5xx only", () => {
    expect([undefined, null, 400, 401, 404, 408, 409, 422, 429, 500, 503].map(isRetryableStatus)).toEqual([true, true, false, false, false, true, true, false, true, true, true]);
  });
});

describe("withRetry (fake timers)", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("retries transient failures after the jittered delays, then returns", async () => {
    const seen: number[] = [];
    const run = withRetry(async (n) => {
      seen.push(n);
      if (n < 3) throw new Transient();
      return "ok";
    }, { policy, classify, random: () => 0.5 });
    await vi.advanceTimersByTimeAsync(49);
    expect(seen).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(100);
    expect([await run, seen]).toEqual(["ok", [1, 2, 3]]);
  });

  it("honours the server's Retry-After over a shorter computed delay", async () => {
    const seen: number[] = [];
    const run = withRetry(async (n) => {
      seen.push(n);
      if (n === 1) throw new Transient(700);
      return n;
    }, { policy, classify, random: () => 0 });
    await vi.advanceTimersByTimeAsync(699);
    expect(seen).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await run).toBe(2);
  });

  it("rethrows the last failure unchanged when the attempts run out", async () => {
    let calls = 0;
    const run = withRetry(async () => {
      calls += 1;
      throw new Transient();
    }, { policy, classify, random: () => 0 });
    const caught = run.catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect([await caught, calls]).toEqual([expect.any(Transient), 4]);
  });

  it("does not retry a failure the caller calls permanent", async () => {
    let calls = 0;
    const permanent = new Error("400");
    await expect(withRetry(async () => {
      calls += 1;
      throw permanent;
    }, { policy, classify })).rejects.toBe(permanent);
    expect(calls).toBe(1);
  });

  it("stops waiting and attempting when the signal aborts", async () => {
    const controller = new AbortController();
    let calls = 0;
    const run = withRetry(async () => {
      calls += 1;
      throw new Transient();
    }, { policy, classify, signal: controller.signal, random: () => 0.999 });
    const caught = run.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort(new Error("client gone"));
    expect([((await caught) as Error).message, calls]).toEqual(["client gone", 1]);
    await vi.runAllTimersAsync();
    expect(calls).toBe(1);
  });

  it("does not start when the signal has already aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("cancelled"));
    let calls = 0;
    await expect(withRetry(async () => ++calls, { policy, classify, signal: controller.signal })).rejects.toThrow("cancelled");
    expect(calls).toBe(0);
  });
});

describe("sleep", () => {
  it("rejects at once for an aborted signal", async () => {
    await expect(sleep(10_000, AbortSignal.abort(new Error("stop")))).rejects.toThrow("stop");
  });
});
