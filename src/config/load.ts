import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument, parse as parseYamlScalar, isMap, isScalar, type Document } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors/index.js";
import { redactValue } from "../log/index.js";
import { TunekitConfigSchema, type TunekitConfig } from "./schema.js";
import { describeIssues, formatPath, type ConfigProblem } from "./issues.js";

export const CONFIG_FILE = "tunekit.yaml";

/** Env vars that configure the CLI itself, not config keys. */
const NON_CONFIG_ENV = new Set(["TUNEKIT_WORKSPACE", "TUNEKIT_PYTHON", "TUNEKIT_DEBUG", "TUNEKIT_LOG_LEVEL"]);

export interface LoadConfigOptions {
  /** Workspace root holding tunekit.yaml. */
  dir: string;
  env?: NodeJS.ProcessEnv;
  /** Flag values, as a partial config; the highest precedence. */
  overrides?: Record<string, unknown>;
  /** Schema to validate against (stages may pass an extended one); the project schema by default. */
  schema?: z.ZodType<TunekitConfig>;
}

type Source = { layer: "file" | "env" | "flag"; label: string };

/**
 * defaults < tunekit.yaml < TUNEKIT_* env < flags. Env keys map by path: TUNEKIT_REGISTRY__BUSY_TIMEOUT_MS sets
 * registry.busyTimeoutMs ("__" separates levels; snake_case becomes camelCase). Every problem from every layer
 * is reported at once in one ConfigError, each with its key path, the bad value, where it came from and the fix.
 */
export function loadConfig(options: LoadConfigOptions): TunekitConfig {
  const sources = new Map<string, Source>();
  const problems: ConfigProblem[] = [];
  const file = join(options.dir, CONFIG_FILE);
  let merged: Record<string, unknown> = {};
  let doc: Document | undefined;

  if (existsSync(file)) {
    doc = parseDocument(readFileSync(file, "utf8"));
    for (const err of doc.errors) {
      const line = err.linePos?.[0]?.line;
      problems.push({
        path: "(file)",
        value: undefined,
        message: `${CONFIG_FILE}${line ? `:${line}` : ""}: YAML syntax error: ${err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`,
        fix: "fix the YAML syntax at that line (indentation with spaces, a space after each colon)",
      });
    }
    if (doc.errors.length === 0) {
      const value = doc.toJS();
      if (value !== null && value !== undefined && (typeof value !== "object" || Array.isArray(value))) {
        problems.push({
          path: "(root)",
          value,
          message: `${CONFIG_FILE} must be a mapping of keys to values`,
          fix: "start the file with top-level keys such as `project:`; see `tunekit init`",
        });
      } else {
        merged = (value ?? {}) as Record<string, unknown>;
        recordSources(merged, [], { layer: "file", label: CONFIG_FILE }, sources, doc);
      }
    }
  }

  const fromEnv = configFromEnv(options.env ?? process.env);
  merged = deepMerge(merged, fromEnv.values);
  for (const [path, name] of fromEnv.names) sources.set(path, { layer: "env", label: name });

  if (options.overrides) {
    merged = deepMerge(merged, options.overrides);
    recordSources(options.overrides, [], { layer: "flag", label: "command-line flag" }, sources);
  }

  const schema = options.schema ?? TunekitConfigSchema;
  const result = schema.safeParse(merged);
  if (!result.success) {
    for (const problem of describeIssues(result.error.issues, merged, (path) => knownKeysAt(schema, path))) {
      problems.push({ ...problem, source: sourceFor(problem.path, sources) });
    }
  }
  if (problems.length > 0) throw configErrorFrom(problems);
  return (result as { data: TunekitConfig }).data;
}

export function configErrorFrom(found: ConfigProblem[]): ConfigError {
  // The offending value is echoed so the user sees what was read, but never a secret: a value under a
  // secret-named key (password, token, authorization…) or a credential by shape (bearer tokens, URL passwords).
  const problems = found.map((p) => ({ ...p, value: redactProblemValue(p.path, p.value) }));
  const lines = problems.map((p) => {
    const where = p.source ? ` (${p.source})` : "";
    const value = p.value === undefined ? "" : ` = ${JSON.stringify(p.value)}`;
    return `  ${p.path}${value}${where}: ${p.message}; fix: ${p.fix}`;
  });
  return new ConfigError(
    "CONFIG_INVALID",
    `${problems.length} problem${problems.length === 1 ? "" : "s"} in the configuration:\n${lines.join("\n")}`,
    { fix: "correct each key listed above, then run the command again", details: { problems } },
  );
}

function redactProblemValue(path: string, value: unknown): unknown {
  if (value === undefined) return undefined;
  const key = /([^.[\]]+)\]?$/.exec(path)?.[1] ?? "";
  return redactValue({ [key]: value })[key];
}

function configFromEnv(env: NodeJS.ProcessEnv): { values: Record<string, unknown>; names: Map<string, string> } {
  const values: Record<string, unknown> = {};
  const names = new Map<string, string>();
  for (const [name, raw] of Object.entries(env)) {
    // Only names with "__" address config keys: TUNEKIT_WORKSPACE, TUNEKIT_PYTHON or a test's TUNEKIT_TEST_… are
    // settings of their own, and treating them as unknown config keys would break every command.
    if (!name.startsWith("TUNEKIT_") || raw === undefined || NON_CONFIG_ENV.has(name) || !name.includes("__")) continue;
    const segments = name.slice("TUNEKIT_".length).split("__").filter(Boolean).map(camelCase);
    if (segments.length === 0) continue;
    let target = values;
    for (const segment of segments.slice(0, -1)) {
      target[segment] = (target[segment] as Record<string, unknown>) ?? {};
      target = target[segment] as Record<string, unknown>;
    }
    target[segments[segments.length - 1]] = parseEnvValue(raw);
    names.set(segments.join("."), name);
  }
  return { values, names };
}

function parseEnvValue(raw: string): unknown {
  try {
    const value = parseYamlScalar(raw);
    return value === null ? raw : value;
  } catch {
    return raw;
  }
}

function camelCase(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] =
      isPlainObject(prev) && isPlainObject(value) ? deepMerge(prev, value) : (value as unknown);
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function recordSources(
  value: unknown,
  path: PropertyKey[],
  source: Source,
  sources: Map<string, Source>,
  doc?: Document,
): void {
  const key = formatPath(path);
  let label = source.label;
  if (doc) {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    if (node && (isScalar(node) || isMap(node)) && node.range) {
      const line = lineOf(String(doc.toString()), node.range[0]);
      label = `${source.label}:${line}`;
    }
  }
  sources.set(key, { layer: source.layer, label });
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) recordSources(v, [...path, k], source, sources, doc);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => recordSources(v, [...path, i], source, sources, doc));
  }
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function sourceFor(path: string, sources: Map<string, Source>): string | undefined {
  // The most specific recorded ancestor: a missing key's parent tells where the section was set.
  let probe = path;
  while (probe) {
    const s = sources.get(probe);
    if (s) return s.label;
    const cut = Math.max(probe.lastIndexOf("."), probe.lastIndexOf("["));
    if (cut <= 0) break;
    probe = probe.slice(0, cut);
  }
  return undefined;
}

/** The keys a strict object accepts at a path, found by walking the schema. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: any = schema;
  const unwrap = () => {
    while (node?._zod?.def && ["default", "optional", "nullable", "prefault", "pipe"].includes(node._zod.def.type)) {
      node = node._zod.def.innerType ?? node._zod.def.in;
    }
  };
  unwrap();
  for (const part of path) {
    if (node?._zod?.def?.type === "object") node = node._zod.def.shape[part as string];
    else if (node?._zod?.def?.type === "array") node = node._zod.def.element;
    else if (node?._zod?.def?.type === "record") node = node._zod.def.valueType;
    else return [];
    unwrap();
  }
  return node?._zod?.def?.type === "object" ? Object.keys(node._zod.def.shape) : [];
}
