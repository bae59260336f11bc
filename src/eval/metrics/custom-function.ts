import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, DataError } from "../../errors/index.js";
import type { EvalExample, ExampleScore, Metric } from "./metric.js";

/**
 * A user-supplied metric: a JS or TS module exporting `score(example, output)` that returns a number, a
 * boolean, or `{ value, detail? }` (sync or async). TS modules load through tsx. The module's own
 * `version` export, when present, becomes part of the metric version.
 */
export type UserScore = number | boolean | { value: number | null; detail?: Record<string, unknown> };
export interface UserMetricModule {
  score(example: EvalExample, output: string): UserScore | Promise<UserScore>;
  version?: string;
  binary?: boolean;
}

async function importModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  if (/\.(c|m)?tsx?$/.test(path)) {
    const { tsImport } = await import("tsx/esm/api");
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

export async function loadCustomMetric(modulePath: string, options: { baseDir?: string; name?: string } = {}): Promise<Metric> {
  const path = resolve(options.baseDir ?? process.cwd(), modulePath);
  const name = options.name ?? `custom:${modulePath}`;
  if (!existsSync(path)) {
    throw new ConfigError("EVAL_CUSTOM_METRIC_NOT_FOUND", `custom metric module ${path} does not exist`, {
      fix: "give metrics[].module as a path relative to the eval config file",
    });
  }
  const mod = await importModule(path);
  const m = ((mod.score ? mod : mod.default) ?? {}) as Partial<UserMetricModule>;
  if (typeof m.score !== "function") {
    throw new ConfigError("EVAL_CUSTOM_METRIC_NO_SCORE", `custom metric module ${path} exports no score(example, output) function`, {
      fix: "export a function: `export function score(example, output) { return output.includes(example.reference) ? 1 : 0 }`",
    });
  }
  const score = m.score.bind(m);
  return {
    name,
    version: `custom/1 (${modulePath}${m.version ? `@${m.version}` : ""})`,
    unit: "fraction",
    binary: Boolean(m.binary),
    describe: `user function ${modulePath}`,
    score: async ({ example, output }): Promise<ExampleScore> => {
      const r = await score(example, output);
      const s = typeof r === "boolean" ? { value: r ? 1 : 0 } : typeof r === "number" ? { value: r } : r;
      if (s === null || typeof s !== "object" || (s.value !== null && (typeof s.value !== "number" || !Number.isFinite(s.value)))) {
        throw new DataError("EVAL_CUSTOM_METRIC_BAD_VALUE", `custom metric ${modulePath} returned ${JSON.stringify(r)} for example ${example.id}`, {
          fix: "return a finite number, a boolean, or { value: number | null, detail? }",
        });
      }
      return { value: s.value, detail: s.detail };
    },
  };
}
