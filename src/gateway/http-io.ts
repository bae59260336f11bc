import type { IncomingMessage, ServerResponse } from "node:http";
import { DataError, errorBody, httpStatusFor, PayloadTooLargeError, toTunekitError } from "../errors/index.js";
import { UpstreamRejection } from "./router.js";

/** An upstream's own rejection keeps its status; every other status comes from the error boundary. */
export function statusFor(error: unknown): number {
  if (error instanceof UpstreamRejection) return error.status;
  return httpStatusFor(error);
}

export function sendError(res: ServerResponse, error: unknown, headers: Record<string, string> = {}): number {
  if (error instanceof UpstreamRejection) {
    if (!res.headersSent) res.writeHead(error.status, { ...headers, "content-type": "application/json", "content-length": error.body.length });
    res.end(error.body);
    return error.status;
  }
  const status = statusFor(error);
  const e = toTunekitError(error);
  const retryAfter = (e.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  // OpenAI's clients read error.message and error.code; errorBody keeps them, plus kind and fix.
  sendJson(res, status, errorBody(error), headers);
  return status;
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(value));
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": body.length });
  res.end(body);
}

/** The request body, refused with 413 past `limit` bytes (by Content-Length up front, else while reading). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(declared, limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(tooLarge(size, limit));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function tooLarge(size: number, limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError("GATEWAY_BODY_TOO_LARGE", `the request body is ${size} bytes, over the limit of ${limit}`, {
    fix: "send a smaller request, or raise gateway.maxBodyBytes in tunekit.yaml",
  });
}

export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (cause) {
    throw new DataError("GATEWAY_BAD_JSON", `the request body is not valid JSON: ${(cause as Error).message}`, { fix: "send a JSON object with Content-Type: application/json" });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new DataError("GATEWAY_BAD_JSON", "the request body must be a JSON object", { fix: "send {\"model\": …, \"messages\": […]}" });
  }
  return value as Record<string, unknown>;
}
