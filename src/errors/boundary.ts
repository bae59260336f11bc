import { TunekitError, type ErrorKind } from "./tunekit-error.js";
import { redactSecrets } from "../log/index.js";

/** Exit codes by error kind: stable, documented in docs/reference/errors.md. */
export const EXIT_CODES: Record<ErrorKind, number> = {
  internal: 1,
  usage: 2,
  config: 3,
  data: 4,
  not_found: 5,
  conflict: 6,
  auth: 7,
  rate_limit: 8,
  provider: 9,
  worker: 10,
  registry: 11,
  too_large: 12,
  forbidden: 13,
  timeout: 14,
};

export const HTTP_STATUSES: Record<ErrorKind, number> = {
  internal: 500,
  usage: 400,
  config: 400,
  data: 422,
  not_found: 404,
  conflict: 409,
  auth: 401,
  rate_limit: 429,
  provider: 502,
  worker: 500,
  registry: 500,
  too_large: 413,
  forbidden: 403,
  timeout: 408,
};

/** Anything thrown becomes a TunekitError; unknown errors are internal, with their message kept. */
export function toTunekitError(error: unknown): TunekitError {
  if (error instanceof TunekitError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TunekitError("INTERNAL", `unexpected error: ${message}`, {
    fix: "re-run with --debug for the stack trace and report it at https://github.com/tunekit/tunekit/issues",
    cause: error,
  });
}

export function exitCodeFor(error: unknown): number {
  return EXIT_CODES[toTunekitError(error).kind];
}

export function httpStatusFor(error: unknown): number {
  return HTTP_STATUSES[toTunekitError(error).kind];
}

/** One line (plus a fix line) for a terminal; the stack only when debugging. Secrets never printed. */
export function formatError(error: unknown, options: { debug?: boolean } = {}): string {
  const e = toTunekitError(error);
  const lines = [`error ${e.code}: ${e.message}`];
  if (e.fix) lines.push(`  fix: ${e.fix}`);
  if (options.debug) {
    const source = e.cause instanceof Error ? e.cause : e;
    if (source.stack) lines.push(source.stack);
  }
  return redactSecrets(lines.join("\n"));
}

/** The JSON body used by --json output and the HTTP server. */
export function errorBody(error: unknown): { error: Record<string, unknown> } {
  const e = toTunekitError(error);
  return JSON.parse(redactSecrets(JSON.stringify({ error: e.toJSON() })));
}
