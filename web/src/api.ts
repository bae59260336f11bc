/** The dashboard's only way to the server: JSON over /api, errors surfaced with their code, message and fix. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly fix?: string) {
    super(message);
  }
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, { credentials: "same-origin", ...init });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string; fix?: string } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? "HTTP_" + res.status, e?.message ?? res.statusText, e?.fix);
  }
  return body as T;
}

export const getJson = <T>(path: string) => request<T>(path);
// State changes carry the server's per-session token (GET /api/session, readable only by this origin's
// scripts); after a server restart the old one is refused once, so it is fetched again and the call retried.
let session: Promise<string> | null = null;
const sessionToken = () =>
  (session ??= request<{ sessionToken: string }>("/api/session").then(
    (b) => b.sessionToken,
    (e: unknown) => {
      session = null;
      throw e;
    },
  ));

export async function postJson<T>(path: string, body: unknown, retried = false): Promise<T> {
  const headers = { "content-type": "application/json", "x-tunekit-session": await sessionToken() };
  try {
    return await request<T>(path, { method: "POST", headers, body: JSON.stringify(body) });
  } catch (e) {
    if (retried || !(e instanceof ApiError) || e.code !== "UI_SESSION_TOKEN") throw e;
    session = null;
    return postJson<T>(path, body, true);
  }
}

// The JSON API's response types, defined once beside the route handlers; type-only, so no server code is bundled.
export type * from "../../src/ui/api-types";

export function qs(params: Record<string, string | number | undefined | null | string[]>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) for (const x of v) u.append(k, x);
    else u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : "";
}
