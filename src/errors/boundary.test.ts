import { describe, expect, it } from "vitest";
import { ConfigError, DataError, ForbiddenError, NotFoundError, ProviderError, RequestTimeoutError, errorBody, exitCodeFor, formatError, httpStatusFor } from "./index.js";

describe("error boundary", () => {
  it("maps each kind to a stable exit code and HTTP status", () => {
    const cases = [
      new ConfigError("CONFIG_INVALID", "m"),
      new DataError("DATA_BAD_LINE", "m"),
      new NotFoundError("RUN_NOT_FOUND", "m"),
      new ProviderError("PROVIDER_QUOTA", "m"),
      new ForbiddenError("UI_ORIGIN_NOT_ALLOWED", "m"),
      new RequestTimeoutError("HTTP_BODY_TIMEOUT", "m"),
      new Error("boom"),
    ];
    expect(cases.map((e) => [exitCodeFor(e), httpStatusFor(e)])).toEqual([
      [3, 400],
      [4, 422],
      [5, 404],
      [9, 502],
      [13, 403],
      [14, 408],
      [1, 500],
    ]);
  });

  it("prints one line plus the fix, the stack only with --debug, never a secret", () => {
    const e = new ProviderError("PROVIDER_AUTH", "OpenAI rejected key sk-abcdefghijklmnopqrstuvwxyz", { fix: "set OPENAI_API_KEY" });
    expect(formatError(e)).toBe("error PROVIDER_AUTH: OpenAI rejected key [REDACTED]\n  fix: set OPENAI_API_KEY");
    expect(formatError(e, { debug: true })).toContain("at ");
    expect(errorBody(e)).toEqual({ error: { code: "PROVIDER_AUTH", kind: "provider", message: "OpenAI rejected key [REDACTED]", fix: "set OPENAI_API_KEY" } });
  });

  it("wraps unknown errors as INTERNAL with their message", () => {
    expect(formatError(new TypeError("x is undefined"))).toBe(
      "error INTERNAL: unexpected error: x is undefined\n  fix: re-run with --debug for the stack trace and report it at https://github.com/tunekit/tunekit/issues",
    );
  });
});
