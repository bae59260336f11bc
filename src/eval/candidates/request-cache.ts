import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../../registry/index.js";
import type { Completion } from "./candidate.js";

/**
 * Finished completions on disk, keyed by the hash of everything that determines the answer (endpoint,
 * model, messages, sampling). An interrupted eval rerun finds its finished examples here and calls nothing
 * for them. Entries are written atomically, so a crash never leaves a half entry. Failures are not cached.
 */
export interface CachedCompletion {
  text: string;
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number;
  /** Absent in entries written before finish reasons were recorded. */
  finishReason?: string | null;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function requestHash(key: unknown): string {
  return createHash("sha256").update(canonical(key)).digest("hex");
}

export class RequestCache {
  constructor(readonly dir: string) {}

  private pathFor(hash: string): string {
    return join(this.dir, hash.slice(0, 2), `${hash}.json`);
  }

  get(hash: string): CachedCompletion | undefined {
    const p = this.pathFor(hash);
    if (!existsSync(p)) return undefined;
    try {
      return JSON.parse(readFileSync(p, "utf8")) as CachedCompletion;
    } catch {
      // A corrupt entry is as good as none: the request is simply made again.
      return undefined;
    }
  }

  async put(hash: string, value: CachedCompletion): Promise<void> {
    const p = this.pathFor(hash);
    mkdirSync(dirname(p), { recursive: true });
    await writeFileAtomic(p, JSON.stringify(value));
  }
}

/** One request's place in the cache: the completion found there, or where the one made now goes. */
export interface CacheEntry {
  /** The cached completion (cached, no attempts), or undefined when the request must be made. */
  hit: Completion | undefined;
  /** Stores a finished completion (nothing without a cache) and returns it as made now, after `attempts` calls. */
  store(value: Omit<Completion, "cached" | "attempts">, attempts: number): Promise<Completion>;
}

/**
 * Looks a request up by the hash of `key` (everything that determines the answer). Every candidate backend goes
 * through this, so a hit reads the same everywhere (entries written before finish reasons existed read null).
 */
export function lookupCompletion(cache: RequestCache | undefined, key: unknown): CacheEntry {
  const hash = requestHash(key);
  const found = cache?.get(hash);
  return {
    hit: found ? { ...found, finishReason: found.finishReason ?? null, cached: true, attempts: 0 } : undefined,
    async store(value, attempts) {
      await cache?.put(hash, value);
      return { ...value, cached: false, attempts };
    },
  };
}
