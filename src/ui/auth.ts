import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { AuthError } from "../errors/index.js";

/**
 * Token auth for a dashboard bound beyond loopback. The token comes from the request's Authorization header
 * (Bearer), a `tk_ui_token` cookie (set when the page is opened with ?token=…), or the `token` query parameter
 * (EventSource cannot send headers). Compared in constant time; never logged.
 */
export const TOKEN_COOKIE = "tk_ui_token";

export function generateToken(): string {
  return randomBytes(24).toString("base64url");
}

/** Kept for callers of the dashboard module; the one definition lives in the HTTP core. */
export { isLoopbackHost as isLoopback } from "../http/index.js";

/** Hashing both sides first gives equal-length buffers, so the comparison time does not depend on the input. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

export function presentedToken(req: IncomingMessage, query: URLSearchParams): string | null {
  const header = req.headers.authorization;
  if (header && /^Bearer /i.test(header)) return header.slice(7).trim();
  const cookie = req.headers.cookie;
  if (cookie) {
    for (const part of cookie.split(";")) {
      const [k, ...v] = part.trim().split("=");
      if (k === TOKEN_COOKIE) return decodeURIComponent(v.join("="));
    }
  }
  return query.get("token");
}

export function assertAuthorized(req: IncomingMessage, query: URLSearchParams, expected: string | null): void {
  if (expected === null) return;
  const given = presentedToken(req, query);
  if (given === null || !tokensEqual(given, expected)) {
    throw new AuthError("UI_UNAUTHORIZED", given === null ? "this dashboard needs its access token" : "the access token is wrong", {
      fix: "open the URL that `tunekit ui` printed (it carries ?token=…), or send Authorization: Bearer TOKEN",
    });
  }
}
