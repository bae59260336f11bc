import type { IncomingMessage } from "node:http";
import { PayloadTooLargeError, RequestTimeoutError, UsageError } from "../errors/index.js";

export interface BodyLimits {
  /** Largest accepted body in bytes (413 above: by Content-Length up front, else while reading). */
  maxBytes: number;
  /** The whole body must arrive within this many ms of the first read (408 after): slow-body (slowloris) clients. */
  timeoutMs: number;
  /** Deepest accepted nesting of arrays/objects in a JSON body (400 above). */
  maxJsonDepth: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = { maxBytes: 1 << 20, timeoutMs: 30_000, maxJsonDepth: 64 };

/**
 * The request body as one buffer. A total deadline, not an idle timeout: a client trickling one byte every
 * two seconds never goes idle, yet must not hold a connection (and its buffers) open for minutes.
 */
export function readBody(req: IncomingMessage, limits: Pick<BodyLimits, "maxBytes" | "timeoutMs">): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    req.resume();
    return Promise.reject(tooLarge(declared, limits.maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limits.maxBytes) {
        stop();
        req.resume(); // drain the rest so the 413 can be read by the client
        reject(tooLarge(size, limits.maxBytes));
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    };
    const onError = (e: Error) => {
      stop();
      reject(e);
    };
    const onAborted = () => onError(new Error("the client closed the connection while sending the body"));
    const timer = setTimeout(() => {
      stop();
      req.pause();
      reject(
        new RequestTimeoutError("HTTP_BODY_TIMEOUT", `the request body did not arrive within ${limits.timeoutMs} ms (${size} bytes received)`, {
          fix: "send the whole body promptly; a client on a very slow link needs a smaller request",
          details: { closeConnection: true },
        }),
      );
    }, limits.timeoutMs);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}

function tooLarge(size: number, limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError("HTTP_BODY_TOO_LARGE", `the request body is ${size} bytes, over the limit of ${limit}`, {
    fix: "send a smaller request, or raise the server's body limit (gateway.maxBodyBytes in tunekit.yaml for the gateway)",
  });
}

/**
 * Whether a JSON text nests arrays/objects deeper than `max`. Iterative on purpose: the point is to refuse
 * `[[[[…]]]]` 5,000 deep before anything recursive (JSON.parse, JSON.stringify, zod) walks it. It reads bytes:
 * the characters that matter are ASCII, which never occur inside a multi-byte UTF-8 sequence, and strings are
 * skipped with a native indexOf to the next unescaped quote (a 5 KB chat request scans in a few µs).
 */
export function exceedsJsonDepth(json: Buffer, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === 34) {
      let end = i;
      for (;;) {
        end = json.indexOf(34, end + 1);
        if (end < 0) return false; // unterminated string: JSON.parse reports it
        let slashes = 0;
        while (json[end - 1 - slashes] === 92) slashes++;
        if (slashes % 2 === 0) break; // an odd run of backslashes escapes this quote
      }
      i = end;
    } else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** JSON.parse behind the depth check; a syntax error is the client's (400), with the parser's position. */
export function parseJson(body: Buffer, maxDepth: number): unknown {
  if (exceedsJsonDepth(body, maxDepth)) {
    throw new UsageError("HTTP_JSON_TOO_DEEP", `the request body nests arrays/objects more than ${maxDepth} levels deep`, {
      fix: `flatten the JSON to at most ${maxDepth} levels of nesting`,
    });
  }
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (cause) {
    throw new UsageError("HTTP_BAD_JSON", `the request body is not valid JSON: ${(cause as Error).message}`, {
      fix: "send a JSON object with Content-Type: application/json",
    });
  }
}

/** A JSON body that must be an object (`{…}`); an empty body is `{}` when `emptyIsObject`. */
export function parseJsonObject(body: Buffer, maxDepth: number, emptyIsObject = false): Record<string, unknown> {
  if (emptyIsObject && body.length === 0) return {};
  const value = parseJson(body, maxDepth);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new UsageError("HTTP_BAD_JSON", `the request body must be a JSON object, not ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`, {
      fix: 'send a JSON object, e.g. {"model": "…", "messages": […]}',
    });
  }
  return value as Record<string, unknown>;
}
