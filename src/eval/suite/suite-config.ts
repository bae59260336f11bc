import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { describeIssues } from "../../config/index.js";
import { TokenPriceSchema } from "../../cost/index.js";
import { ConfigError, NotFoundError } from "../../errors/index.js";
import { CONSTRAIN_UNSUPPORTED_FIX } from "../candidates/openai-candidate.js";

/**
 * eval.yaml: one zod schema gives the types, the defaults and the JSON Schema. Every problem is reported at
 * once, before any example is sent anywhere.
 */
const PromptSchema = z
  .strictObject({
    system: z.string().optional().describe("system message sent first"),
    template: z.string().optional().describe("user turn; {{input}} is the example, {{context}} the retrieved passages"),
    fewShot: z
      .strictObject({
        k: z.number().int().positive().describe("examples shown as earlier user/assistant turns"),
        seed: z.number().int().default(1).describe("which k are drawn (the same k for every test example)"),
      })
      .optional()
      .describe("few-shot examples from dataset.trainSplit (or dataset.fewShot)"),
    retrieval: z
      .strictObject({ k: z.number().int().positive().default(3).describe("passages retrieved per example") })
      .optional()
      .describe("BM25 passages from retrieval.documents, put where the template says {{context}}"),
  })
  .default({})
  .describe("the prompt strategy; empty: the input alone (zero-shot)");

const CommonCandidate = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "use letters, digits, '.', '_' or '-'").describe("unique name in reports and comparisons"),
  prompt: PromptSchema,
  pricing: TokenPriceSchema.optional().describe("prices for cost per request / per correct answer; absent: cost is reported as unknown"),
  concurrency: z.number().int().positive().max(256).default(8).describe("requests in flight at once (a local candidate answers one at a time)"),
  maxTokens: z.number().int().positive().default(64).describe("most tokens per answer; an answer that hits it is flagged truncated"),
  temperature: z.number().min(0).max(2).default(0).describe("0: greedy"),
  seed: z.number().int().optional().describe("sampling seed, where the backend supports one"),
  fineTuned: z.boolean().optional().describe("marks a fine-tuned model for `tunekit advise` (default: a local adapter or an ft: model id)"),
  constrain: z
    .enum(["labels"])
    .optional()
    .describe("labels: decoding constrained to the classification label set (classification.labels, else inferred), so every answer is exactly one label; local candidates only"),
};

const OpenAICandidateSchema = z.strictObject({
  ...CommonCandidate,
  type: z.literal("openai").describe("openai: any OpenAI-compatible endpoint, incl. hosted fine-tuned model ids"),
  model: z.string().min(1).describe("the model id sent to the endpoint (an ft: id for a hosted fine-tune)"),
  baseURL: z.url().optional().describe("default https://api.openai.com/v1; vLLM, Ollama, the tunekit gateway …"),
  apiKeyEnv: z.string().optional().describe("env var holding the API key (the key itself never goes in the file)"),
  timeoutMs: z.number().int().positive().default(120_000).describe("per request"),
  maxAttempts: z.number().int().positive().default(6).describe("attempts per request on 429 / 5xx / connection errors (jittered backoff)"),
});

const LocalCandidateSchema = z.strictObject({
  ...CommonCandidate,
  type: z.literal("local").describe("local: a model folder generating through the Python worker"),
  modelDir: z.string().min(1).describe("Hugging Face model folder (config.json, safetensors, tokenizer.json), relative to eval.yaml"),
  adapterDir: z.string().optional().describe("LoRA adapter folder (PEFT format) applied to modelDir: a fine-tuned candidate"),
  stop: z.array(z.string()).optional().describe('text stop sequences (default ["\\n\\n"])'),
  promptFormat: z.enum(["chat", "plain"]).default("chat").describe("chat: the model's chat template (as in training); plain: turns joined as text"),
  template: z.string().optional().describe('chat template override: "chatml" or a .jinja path'),
});

const LlamaCppCandidateSchema = z.strictObject({
  ...CommonCandidate,
  type: z.literal("llama-cpp").describe("llama-cpp: an exported GGUF (tunekit model export --format gguf) generating through llama.cpp (node-llama-cpp), greedy"),
  path: z.string().min(1).describe("the .gguf file, relative to eval.yaml"),
  promptFormat: z
    .enum(["gguf", "tunekit", "plain"])
    .default("gguf")
    .describe("gguf: the chat template carried in the file, tokenized by llama.cpp (as a llama.cpp server or Ollama serves it: catches template drift); tunekit: the prompt ids tunekit builds from modelDir; plain: turns joined as text"),
  modelDir: z.string().optional().describe("the trained model's folder, relative to eval.yaml (needed by promptFormat tunekit)"),
  template: z.string().optional().describe('with promptFormat tunekit: chat template override, "chatml" or a .jinja path'),
  stop: z.array(z.string()).optional().describe('text stop sequences (default ["\\n\\n"])'),
  threads: z.number().int().positive().optional().describe("CPU threads for llama.cpp (default: up to 4)"),
});

export const CandidateSpecSchema = z.discriminatedUnion("type", [OpenAICandidateSchema, LocalCandidateSchema, LlamaCppCandidateSchema]);
export type CandidateSpec = z.infer<typeof CandidateSpecSchema>;

export const BUILTIN_METRICS = ["exact_match", "normalized_match", "token_f1", "rouge_l", "bleu", "chrf", "chrf++", "accuracy", "macro_f1", "json_valid"] as const;

export const MetricSpecSchema = z.union([
  z.enum(BUILTIN_METRICS),
  z.strictObject({ type: z.literal("json_schema"), name: z.string().optional(), schema: z.record(z.string(), z.unknown()), extract: z.boolean().default(true) }),
  z.strictObject({ type: z.enum(["regex", "contains", "not_contains"]), name: z.string().optional(), value: z.string(), flags: z.string().optional(), caseSensitive: z.boolean().optional() }),
  z.strictObject({ type: z.literal("custom"), name: z.string().optional(), module: z.string() }),
]);
export type MetricSpec = z.infer<typeof MetricSpecSchema>;

export const EvalSuiteSchema = z.strictObject({
  name: z.string().min(1),
  dataset: z.strictObject({
    version: z.string().min(1).describe('"name" (latest), "name@N" or a version id'),
    split: z.string().default("test"),
    trainSplit: z.string().default("train").describe("few-shot examples are drawn from here (unless dataset.fewShot names another source)"),
    limit: z.number().int().positive().optional().describe("first N examples of the split (seeded order kept)"),
    heldOut: z
      .strictObject({
        version: z.string().min(1).describe('the held-out dataset: "name", "name@N" or a version id'),
        split: z.string().default("all").describe('its split to evaluate on ("all": every record)'),
      })
      .optional()
      .describe("evaluate on a separately imported held-out dataset instead of dataset.version's split"),
    fewShot: z
      .strictObject({
        version: z.string().min(1).describe('"name", "name@N" or a version id'),
        split: z.string().default("train").describe('its split to draw from ("all": every record)'),
      })
      .optional()
      .describe("draw few-shot examples from this dataset version instead of dataset.version's trainSplit; a held-out prompt also in it is refused"),
  }),
  candidates: z.array(CandidateSpecSchema).min(1),
  metrics: z.array(MetricSpecSchema).min(1),
  classification: z
    .strictObject({
      labels: z.array(z.string()).optional().describe("default: the distinct references of the train and test splits"),
      match: z.enum(["exact", "contains"]).default("contains"),
    })
    .default({ match: "contains" }),
  judge: z
    .strictObject({
      model: z.string(),
      baseURL: z.url().optional(),
      apiKeyEnv: z.string().optional(),
      mode: z.enum(["score", "pairwise"]).default("score"),
      rubric: z.string().min(1),
      repeats: z.number().int().positive().max(10).default(3),
      baseline: z.string().optional(),
      temperature: z.number().min(0).max(2).default(0.7),
      concurrency: z.number().int().positive().default(4),
    })
    .optional(),
  retrieval: z.strictObject({ documents: z.array(z.string()).min(1), passageWords: z.number().int().positive().optional() }).optional(),
  primaryMetric: z.string().optional().describe("default: the first metric"),
  statistics: z.strictObject({ resamples: z.number().int().min(100).default(2000), seed: z.number().int().default(20240601), confidence: z.number().gt(0).lt(1).default(0.95) }).default({ resamples: 2000, seed: 20240601, confidence: 0.95 }),
  volume: z.strictObject({ requestsPerMonth: z.number().positive() }).optional(),
});
export type EvalSuite = z.infer<typeof EvalSuiteSchema>;

export function evalSuiteJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(EvalSuiteSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}

export function metricName(spec: MetricSpec): string {
  if (typeof spec === "string") return spec;
  if (spec.name) return spec.name;
  return spec.type === "custom" ? `custom:${spec.module}` : spec.type === "json_schema" ? "json_schema" : `${spec.type}:${spec.value}`;
}

/** Parses and cross-checks a suite; every problem in one ConfigError (EVAL_CONFIG_INVALID). */
export function parseEvalSuite(raw: unknown, source = "eval config"): EvalSuite {
  const result = EvalSuiteSchema.safeParse(raw);
  const problems = result.success ? [] : describeIssues(result.error.issues, raw, () => []).map((p) => ({ ...p, source }));
  if (result.success) {
    const s = result.data;
    const names = s.candidates.map((c) => c.name);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) problems.push({ path: `candidates[${i}].name`, value: n, message: "duplicate candidate name", fix: "give every candidate its own name", source });
    });
    const metricNames = s.metrics.map(metricName);
    if (s.primaryMetric && !metricNames.includes(s.primaryMetric) && !(s.judge && s.primaryMetric.startsWith("judge"))) {
      problems.push({ path: "primaryMetric", value: s.primaryMetric, message: "not one of the metrics", fix: `use one of: ${metricNames.join(", ")}`, source });
    }
    if (s.judge?.mode === "pairwise" && (!s.judge.baseline || !names.includes(s.judge.baseline))) {
      problems.push({ path: "judge.baseline", value: s.judge.baseline, message: "pairwise judging needs a baseline candidate", fix: `set judge.baseline to one of: ${names.join(", ")}`, source });
    }
    s.candidates.forEach((c, i) => {
      if (c.prompt.retrieval && !s.retrieval) problems.push({ path: `candidates[${i}].prompt.retrieval`, value: c.prompt.retrieval, message: "retrieval needs documents", fix: "add retrieval.documents: [paths] at the top level", source });
      if (c.type === "llama-cpp" && c.promptFormat === "tunekit" && !c.modelDir) {
        problems.push({ path: `candidates[${i}].modelDir`, value: c.modelDir, message: 'promptFormat "tunekit" builds the prompt from the trained model folder', fix: "set modelDir, or use promptFormat gguf", source });
      }
      if (c.constrain && c.type === "llama-cpp") {
        problems.push({ path: `candidates[${i}].constrain`, value: c.constrain, message: "constrained decoding is not available through llama.cpp here", fix: "remove constrain, or evaluate the model folder as a local candidate", source });
      }
      if (c.constrain && c.type === "openai") {
        problems.push({ path: `candidates[${i}].constrain`, value: c.constrain, message: "constrained decoding needs a local candidate: an OpenAI-compatible API can bias single tokens, not restrict answers to multi-token labels", fix: CONSTRAIN_UNSUPPORTED_FIX, source });
      }
      if (c.prompt.template && !/\{\{\s*input\s*\}\}/.test(c.prompt.template)) {
        problems.push({ path: `candidates[${i}].prompt.template`, value: c.prompt.template, message: "the template never uses {{input}}", fix: 'include {{input}}, e.g. "Classify: {{input}}"', source });
      }
    });
  }
  if (problems.length > 0) {
    const lines = problems.map((p) => `  ${p.path}${p.value === undefined ? "" : ` = ${JSON.stringify(p.value)}`}: ${p.message}; fix: ${p.fix}`);
    throw new ConfigError("EVAL_CONFIG_INVALID", `${problems.length} problem${problems.length === 1 ? "" : "s"} in ${source}:\n${lines.join("\n")}`, {
      fix: "correct each key listed above, then run the eval again",
      details: { problems },
    });
  }
  return result.data as EvalSuite;
}

export interface LoadedSuite {
  suite: EvalSuite;
  path: string;
  baseDir: string;
}

export function loadEvalSuite(path: string): LoadedSuite {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch {
    throw new NotFoundError("EVAL_CONFIG_NOT_FOUND", `eval config ${abs} does not exist`, { fix: "pass --config eval.yaml (see docs for the format)" });
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new ConfigError("EVAL_CONFIG_INVALID", `${abs} is not valid YAML: ${(error as Error).message}`, { fix: "fix the YAML syntax at the line shown" });
  }
  return { suite: parseEvalSuite(raw, abs), path: abs, baseDir: dirname(abs) };
}
