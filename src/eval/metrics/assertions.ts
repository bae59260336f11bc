import { ConfigError } from "../../errors/index.js";
import type { Metric } from "./metric.js";

/** Pass/fail assertions on the output text: a regular expression, or contains / not-contains a string. */
export interface AssertionSpec {
  type: "regex" | "contains" | "not_contains";
  value: string;
  flags?: string;
  caseSensitive?: boolean;
  name?: string;
}

export function createAssertionMetric(spec: AssertionSpec): Metric {
  const name = spec.name ?? `${spec.type}:${spec.value}`;
  if (spec.type === "regex") {
    let re: RegExp;
    try {
      re = new RegExp(spec.value, (spec.flags ?? "").replace("g", ""));
    } catch (error) {
      throw new ConfigError("EVAL_BAD_REGEX", `metric "${name}": /${spec.value}/${spec.flags ?? ""} is not a valid regular expression: ${(error as Error).message}`, {
        fix: "fix the pattern (JavaScript syntax; escape backslashes in YAML double-quoted strings)",
      });
    }
    return {
      name,
      version: "regex/1",
      unit: "fraction",
      binary: true,
      describe: `output matches /${spec.value}/${spec.flags ?? ""}`,
      score: ({ output }) => ({ value: re.test(output) ? 1 : 0 }),
    };
  }
  const cs = spec.caseSensitive ?? false;
  const needle = cs ? spec.value : spec.value.toLowerCase();
  const want = spec.type === "contains";
  return {
    name,
    version: `${spec.type}/1 (case-sensitive:${cs})`,
    unit: "fraction",
    binary: true,
    describe: `output ${want ? "contains" : "does not contain"} "${spec.value}"`,
    score: ({ output }) => ({ value: (cs ? output : output.toLowerCase()).includes(needle) === want ? 1 : 0 }),
  };
}
