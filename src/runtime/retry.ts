/**
 * The one retry policy for transient failures (HTTP 408/409/429/5xx, connection errors, timeouts): exponential
 * backoff with full jitter, a server's Retry-After honoured (up to the cap), and an abort signal that stops
 * both the waiting and any further attempt. Used by eval's OpenAI-compatible candidate and the gateway router.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retry). */
  maxAttempts: number;
  /** Cap of the first retry's delay; the cap doubles with each attempt. */
  baseDelayMs: number;
  /** No delay (computed or Retry-After) is longer than this. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Whether a failed HTTP status is worth another attempt; undefined/null = no response (connection error). */
export function isRetryableStatus(status: number | null | undefined): boolean {
  return status === undefined || status === null || status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The delay before the retry that follows failed attempt `attempt` (1-based): uniform in [0, cap) with
 * cap = min(maxDelayMs, baseDelayMs × 2^(attempt−1)) — full jitter, so many clients failing together do not
 * retry together — but never shorter than the server's Retry-After (itself capped at maxDelayMs).
 */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random, retryAfterMs?: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random() * cap);
  const floor = retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? Math.min(policy.maxDelayMs, retryAfterMs) : 0;
  return Math.max(jittered, floor);
}

/** A Retry-After header in ms: delta-seconds ("120") or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfterMs(header: string | readonly string[] | null | undefined, now: number = Date.now()): number | undefined {
  const value = (Array.isArray(header) ? header[0] : (header as string | null | undefined))?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Waits `ms`; rejects with the signal's reason as soon as it aborts (and at once if it already has). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** What a caller decides about one failure. */
export interface RetryDecision {
  retry: boolean;
  /** The server's Retry-After, in ms, when it sent one. */
  retryAfterMs?: number;
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** Whether this failure is transient; anything not retried is rethrown as it is. */
  classify: (error: unknown) => RetryDecision;
  signal?: AbortSignal;
  /** Jitter source; tests pass a fixed one. */
  random?: () => number;
}

/**
 * Runs `attempt(n)` (n = 1, 2, …) until it resolves, a failure is not retryable, the attempts run out, or the
 * signal aborts. The last failure is rethrown unchanged, so callers keep their own error codes; they count
 * attempts from `n`.
 */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy, signal } = options;
  for (let n = 1; ; n++) {
    if (signal?.aborted) throw signal.reason;
    try {
      return await attempt(n);
    } catch (error) {
      // An aborted attempt is the caller's decision, not a transient failure.
      if (signal?.aborted) throw error;
      const decision = options.classify(error);
      if (!decision.retry || n >= policy.maxAttempts) throw error;
      await sleep(backoffDelayMs(n, policy, options.random, decision.retryAfterMs), signal);
    }
  }
}
