import { Ajv, type ValidateFunction } from "ajv";
import { ConfigError } from "../../errors/index.js";
import type { Metric } from "./metric.js";

/**
 * JSON validity and JSON-Schema conformance. With `extract` (default true) a single fenced ```json block or
 * the outermost {...}/[...] span is parsed, because chat models often wrap JSON in prose; strict mode parses
 * the whole output.
 */
export function extractJson(output: string, extract: boolean): string {
  if (!extract) return output;
  const fence = /```(?:json)?\s*\n([\s\S]*?)```/i.exec(output);
  if (fence) return fence[1];
  const start = output.search(/[[{]/);
  if (start < 0) return output;
  const open = output[start];
  const end = output.lastIndexOf(open === "{" ? "}" : "]");
  return end > start ? output.slice(start, end + 1) : output;
}

export function parseJsonOutput(output: string, extract = true): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(extractJson(output, extract)) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

export function createJsonValidMetric(options: { extract?: boolean } = {}): Metric {
  const extract = options.extract ?? true;
  return {
    name: "json_valid",
    version: `json_valid/1 (extract:${extract})`,
    unit: "fraction",
    binary: true,
    describe: "output parses as JSON",
    score: ({ output }) => {
      const r = parseJsonOutput(output, extract);
      return r.ok ? { value: 1 } : { value: 0, detail: { error: r.error } };
    },
  };
}

export function createJsonSchemaMetric(schema: Record<string, unknown>, options: { extract?: boolean; name?: string } = {}): Metric {
  const extract = options.extract ?? true;
  let validate: ValidateFunction;
  try {
    validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  } catch (error) {
    throw new ConfigError("EVAL_BAD_JSON_SCHEMA", `the json_schema metric's schema does not compile: ${(error as Error).message}`, {
      fix: "give a valid JSON Schema (draft-07 or 2019-09) under metrics[].schema",
      cause: error,
    });
  }
  return {
    name: options.name ?? "json_schema",
    version: "json_schema/1 (ajv 8)",
    unit: "fraction",
    binary: true,
    describe: "output is JSON that conforms to the schema",
    score: ({ output }) => {
      const r = parseJsonOutput(output, extract);
      if (!r.ok) return { value: 0, detail: { error: `not JSON: ${r.error}` } };
      if (validate(r.value)) return { value: 1 };
      return { value: 0, detail: { errors: (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`.trim()) } };
    },
  };
}
