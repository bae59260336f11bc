import type { z } from "zod";

/** One config problem, phrased for a person: where, what was given, what is wrong, what to do. */
export interface ConfigProblem {
  path: string;
  value: unknown;
  message: string;
  fix: string;
  source?: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "(root)" : out;
}

export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part as string];
  }
  return cur;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Keys a strict object at `path` accepts, read from the schema so suggestions never drift. */
export type KnownKeys = (path: readonly PropertyKey[]) => string[];

/** Turns zod issues into problems, one per offending key (unrecognized keys are split into one each). */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown, knownKeys: KnownKeys): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(issue.path);
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        const suggestion = closestKey(key, known);
        problems.push({
          path: formatPath(path),
          value: valueAt(input, path),
          message: `unknown key "${key}"`,
          fix: suggestion
            ? `did you mean "${suggestion}"? Rename it, or remove it`
            : `remove it; keys allowed here: ${known.join(", ") || "(none)"}`,
        });
      }
      continue;
    }
    problems.push({
      path: formatPath(issue.path),
      value: valueAt(input, issue.path),
      message: issue.message,
      fix: fixFor(issue),
    });
  }
  return problems;
}

function fixFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `set it to a ${issue.expected}`;
    case "invalid_value":
      return `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
      return `use a value ${issue.inclusive === false ? ">" : "≥"} ${String(issue.minimum)}`;
    case "too_big":
      return `use a value ${issue.inclusive === false ? "<" : "≤"} ${String(issue.maximum)}`;
    case "invalid_format":
      return `write it in ${issue.format} format`;
    case "invalid_union":
      return "check the documented forms of this key (docs/reference/config.md)";
    default:
      return "see docs/reference/config.md for this key";
  }
}
