import type { ServerResponse } from "node:http";
import { z } from "zod";
import { UsageError } from "../errors/index.js";
import type { Method } from "../http/index.js";
import type { Workspace } from "../registry/index.js";

/**
 * The dashboard API's route table (method + path pattern with :params) and its request helpers: JSON bodies
 * validated with zod, bounded integer query parameters. server.ts mounts the table on the HTTP core
 * (src/http), which owns body limits, decoding and the one error mapping.
 */
export interface ApiRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  ws: Workspace;
  /** Aborted when the client goes away (streams and long scans stop). */
  signal: AbortSignal;
  res: ServerResponse;
}

/** A handler returns a JSON value, or STREAMED when it wrote the response itself (SSE). */
export const STREAMED = Symbol("streamed");
export type Handler = (req: ApiRequest) => Promise<unknown>;

export interface Route {
  method: Method;
  pattern: string;
  handler: Handler;
}

/** Parses a request body against a schema; every problem in one error. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
    throw new UsageError("UI_BODY_INVALID", `invalid ${what}: ${problems}`, { fix: `correct the fields named above and send the ${what} again` });
  }
  return parsed.data;
}

/** An integer query parameter with bounds; absent → fallback. */
export function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError("UI_QUERY_INVALID", `query parameter ${name}=${JSON.stringify(raw)} is not an integer in ${min}…${max}`, { fix: `pass ${name}=${fallback}` });
  }
  return n;
}
