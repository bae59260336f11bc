import { UsageError } from "../errors/index.js";

/**
 * Parses `--var key=value` flags into chat-template variables (e.g. `--var enable_thinking=false` for Qwen3).
 * Values are JSON when they parse (false, 3, "x", {…}), else the raw string.
 */
export function parseTemplateVariables(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new UsageError("TOKENIZE_TEMPLATE_VARIABLE_INVALID", `template variable ${JSON.stringify(pair)} is not key=value`, {
        fix: "Write it as --var name=value, e.g. --var enable_thinking=false.",
      });
    }
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    out[pair.slice(0, eq)] = value;
  }
  return out;
}
