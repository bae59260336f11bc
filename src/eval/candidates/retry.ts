/**
 * Exponential backoff with full jitter for transient failures: HTTP 429, 5xx and connection errors.
 * A `Retry-After` header (seconds) from the server wins over the computed delay when it is longer.
 */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 30_000 };

export function isRetryable(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
}

export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random, retryAfterS?: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random() * cap);
  const floor = retryAfterS !== undefined && Number.isFinite(retryAfterS) ? Math.min(policy.maxDelayMs, retryAfterS * 1000) : 0;
  return Math.max(jittered, floor);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
