import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type Database from "better-sqlite3";
import { AuthError, NotFoundError, RateLimitError, UsageError } from "../errors/index.js";
import type { ApiKeysTable } from "./store-schema.js";

/** serve: chat and models; admin: experiments, logs, metrics; fine-tune: /v1/files and /v1/fine_tuning (trains on this host). */
export const SCOPES = ["serve", "admin", "fine-tune"] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: Scope[];
  requestsPerMinute: number | null;
  burst: number | null;
  createdAt: number;
  revokedAt: number | null;
}

/** A row of api_keys, typed once with the table (store-schema.ts). */
type KeyRow = ApiKeysTable;

/**
 * Client API keys: `tk-<id>.<secret>`. Only sha256(salt ‖ secret) with a random per-key salt is stored (the
 * secret has 192 random bits, so a slow KDF adds nothing but latency on every request); the full key is shown
 * once, at creation.
 */
export class KeyStore {
  /** In-process listeners (the server's verifier) told of every create and revoke. */
  readonly onChange = new Set<() => void>();
  constructor(private readonly db: Database.Database) {}

  create(input: { name: string; scopes: Scope[]; requestsPerMinute?: number; burst?: number; now?: number }): { key: string; info: ApiKeyInfo } {
    for (const s of input.scopes) {
      if (!SCOPES.includes(s)) throw new UsageError("GATEWAY_BAD_SCOPE", `unknown scope ${JSON.stringify(s)}`, { fix: `use ${SCOPES.join(" and/or ")}` });
    }
    if (input.scopes.length === 0) throw new UsageError("GATEWAY_BAD_SCOPE", "a key needs at least one scope", { fix: "pass --scopes serve (or serve,admin)" });
    const id = randomBytes(6).toString("hex");
    const secret = randomBytes(24).toString("base64url");
    const salt = randomBytes(16).toString("hex");
    const now = input.now ?? Date.now();
    this.db
      .prepare("INSERT INTO api_keys (id, name, salt, hash, scopes, requests_per_minute, burst, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .run(id, input.name, salt, hashSecret(salt, secret), input.scopes.join(","), input.requestsPerMinute ?? null, input.burst ?? null, now);
    for (const f of this.onChange) f();
    return { key: `tk-${id}.${secret}`, info: this.get(id) };
  }

  get(id: string): ApiKeyInfo {
    const row = this.db.prepare("SELECT * FROM api_keys WHERE id = ?").get(id) as KeyRow | undefined;
    if (!row) throw new NotFoundError("GATEWAY_KEY_NOT_FOUND", `no client key with id ${JSON.stringify(id)}`, { fix: "list keys with `tunekit serve keys list`" });
    return toInfo(row);
  }

  list(): ApiKeyInfo[] {
    return (this.db.prepare("SELECT * FROM api_keys ORDER BY created_at, id").all() as KeyRow[]).map(toInfo);
  }

  revoke(id: string, now = Date.now()): ApiKeyInfo {
    this.get(id);
    this.db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(now, id);
    for (const f of this.onChange) f();
    return this.get(id);
  }

  /** Active keys with their salted hashes, for the server's in-memory verifier. */
  activeRows(): KeyRow[] {
    return this.db.prepare("SELECT * FROM api_keys WHERE revoked_at IS NULL").all() as KeyRow[];
  }
}

function toInfo(row: KeyRow): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes.split(",") as Scope[],
    requestsPerMinute: row.requests_per_minute,
    burst: row.burst,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

function hashSecret(salt: string, secret: string): string {
  return createHash("sha256").update(salt).update(secret).digest("hex");
}

interface Bucket {
  tokens: number;
  last: number;
}

export interface AuthResult {
  keyId: string | null;
  scopes: readonly Scope[];
}

/** Verifies keys and applies per-key token buckets; reloads the key table periodically (CLI changes apply). */
export class Authenticator {
  private keys = new Map<string, KeyRow>();
  private readonly buckets = new Map<string, Bucket>();
  private loadedAt = 0;

  constructor(
    private readonly store: KeyStore,
    private readonly options: { required: boolean; requestsPerMinute: number; burst: number; reloadMs?: number; now?: () => number },
  ) {
    this.reload();
    store.onChange.add(() => this.reload());
  }

  reload(): void {
    this.keys = new Map(this.store.activeRows().map((r) => [r.id, r]));
    this.loadedAt = Date.now();
  }

  /** Throws AuthError (401) for a missing/wrong key or a missing scope, RateLimitError (429) when over budget. */
  check(authorization: string | undefined, scope: Scope): AuthResult {
    if (Date.now() - this.loadedAt > (this.options.reloadMs ?? 2000)) this.reload();
    if (!authorization) {
      if (!this.options.required) return { keyId: null, scopes: SCOPES };
      throw new AuthError("GATEWAY_AUTH_MISSING", "no API key: send Authorization: Bearer tk-…", {
        fix: "create a key with `tunekit serve keys create --name NAME --scopes serve` and pass it as the OpenAI client's apiKey",
      });
    }
    const m = /^Bearer\s+tk-([0-9a-f]{12})\.([A-Za-z0-9_-]+)$/.exec(authorization.trim());
    // A key created by the CLI in another process: look again (at most every 100 ms, so floods of bad keys stay cheap).
    if (m && !this.keys.has(m[1]) && Date.now() - this.loadedAt > 100) this.reload();
    const row = m ? this.keys.get(m[1]) : undefined;
    if (!m || !row || !safeEqual(row.hash, hashSecret(row.salt, m[2]))) {
      if (!this.options.required && !m) return { keyId: null, scopes: SCOPES };
      throw new AuthError("GATEWAY_AUTH_INVALID", "the API key is not valid (unknown, revoked or mistyped)", {
        fix: "check the key, or create a new one with `tunekit serve keys create`",
      });
    }
    const scopes = row.scopes.split(",") as Scope[];
    if (!scopes.includes(scope)) {
      throw new AuthError("GATEWAY_AUTH_SCOPE", `key ${row.id} lacks the ${scope} scope (has ${scopes.join(", ")})`, {
        fix: `use a key with the ${scope} scope: tunekit serve keys create --scopes ${scope}`,
      });
    }
    this.take(row);
    return { keyId: row.id, scopes };
  }

  private take(row: KeyRow): void {
    const perMinute = row.requests_per_minute ?? this.options.requestsPerMinute;
    const burst = row.burst ?? this.options.burst;
    const now = (this.options.now ?? Date.now)();
    const bucket = this.buckets.get(row.id) ?? { tokens: burst, last: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.last) / 60_000) * perMinute);
    bucket.last = now;
    this.buckets.set(row.id, bucket);
    if (bucket.tokens < 1) {
      const waitS = Math.ceil(((1 - bucket.tokens) * 60) / perMinute);
      throw new RateLimitError("GATEWAY_RATE_LIMITED", `key ${row.id} is over its rate limit (${perMinute}/min, burst ${burst})`, {
        fix: `retry after ${waitS} s, or raise the key's limit (tunekit serve keys create --rpm N)`,
        details: { retryAfterSeconds: waitS },
      });
    }
    bucket.tokens -= 1;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
