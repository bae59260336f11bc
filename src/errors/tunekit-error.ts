/**
 * One base error for everything tunekit reports to a user. Each error carries a stable `code` (documented,
 * never renamed), a message saying what happened and the offending value, and a `fix` saying what to do.
 * The boundary (boundary.ts) maps the class to an exit code and an HTTP status; nothing else does.
 */
export interface ErrorOptions {
  fix?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export type ErrorKind =
  | "usage"
  | "config"
  | "data"
  | "not_found"
  | "conflict"
  | "auth"
  | "rate_limit"
  | "too_large"
  | "forbidden"
  | "timeout"
  | "provider"
  | "worker"
  | "registry"
  | "internal";

export class TunekitError extends Error {
  readonly code: string;
  readonly fix?: string;
  readonly details?: Record<string, unknown>;
  readonly kind: ErrorKind = "internal";

  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.fix = options.fix;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, kind: this.kind, message: this.message, fix: this.fix, details: this.details };
  }
}

/** Wrong command-line usage: unknown flag, missing argument. */
export class UsageError extends TunekitError {
  override readonly kind = "usage";
}
/** tunekit.yaml, a job spec or an env override is invalid. */
export class ConfigError extends TunekitError {
  override readonly kind = "config";
}
/** A dataset file or record is malformed or fails validation. */
export class DataError extends TunekitError {
  override readonly kind = "data";
}
/** A named thing (dataset, version, run, model) does not exist. */
export class NotFoundError extends TunekitError {
  override readonly kind = "not_found";
}
/** The request conflicts with current state (a run already finished, a name taken). */
export class ConflictError extends TunekitError {
  override readonly kind = "conflict";
}
/** Missing or wrong credentials, or a scope that does not allow the call. */
export class AuthError extends TunekitError {
  override readonly kind = "auth";
}
/** A caller exceeded a rate limit. */
export class RateLimitError extends TunekitError {
  override readonly kind = "rate_limit";
}
/** An input over a size limit (a request body, a line, a file). */
export class PayloadTooLargeError extends TunekitError {
  override readonly kind = "too_large";
}
/** The caller is known (or needs no identity) but this request is refused: a foreign Origin or Host, no session token. */
export class ForbiddenError extends TunekitError {
  override readonly kind = "forbidden";
}
/** The caller was too slow: a request body that did not arrive in time. */
export class RequestTimeoutError extends TunekitError {
  override readonly kind = "timeout";
}
/** A hosted provider (OpenAI, Bedrock, Together, an upstream) failed or refused. */
export class ProviderError extends TunekitError {
  override readonly kind = "provider";
}
/** The Python worker is missing, crashed or reported an error. */
export class WorkerError extends TunekitError {
  override readonly kind = "worker";
}
/** The registry database or artifact store failed. */
export class RegistryError extends TunekitError {
  override readonly kind = "registry";
}

export function isTunekitError(value: unknown): value is TunekitError {
  return value instanceof TunekitError;
}
