import type { ErrorKind, TunekitError } from "../errors/index.js";

/** OpenAI's error `type` for each tunekit error kind (what its SDKs and clients branch on). */
const TYPES: Record<ErrorKind, string> = {
  usage: "invalid_request_error",
  config: "invalid_request_error",
  data: "invalid_request_error",
  too_large: "invalid_request_error",
  timeout: "invalid_request_error",
  conflict: "invalid_request_error",
  not_found: "not_found_error",
  auth: "authentication_error",
  forbidden: "permission_error",
  rate_limit: "rate_limit_error",
  provider: "api_error",
  worker: "server_error",
  registry: "server_error",
  internal: "server_error",
};

/**
 * The gateway's error body in OpenAI's shape, `{error: {message, type, param, code}}`, so OpenAI clients read
 * it as they read OpenAI's own; tunekit's `fix` rides along (clients ignore fields they do not know).
 */
export function openAiErrorBody(e: TunekitError): { error: { message: string; type: string; param: string | null; code: string; fix?: string } } {
  const param = (e.details as { param?: unknown } | undefined)?.param;
  return { error: { message: e.message, type: TYPES[e.kind], param: typeof param === "string" ? param : null, code: e.code, ...(e.fix ? { fix: e.fix } : {}) } };
}
