import { countTokens as countCl100k } from "gpt-tokenizer/encoding/cl100k_base";
import { countTokens as countO200k } from "gpt-tokenizer/encoding/o200k_base";
import { z } from "zod";
import { UsageError } from "../errors/index.js";

export const ENCODINGS = ["o200k_base", "cl100k_base"] as const;
export type EncodingName = (typeof ENCODINGS)[number];

/**
 * OpenAI model → tiktoken encoding (longest matching prefix wins). Claude models (Anthropic, Bedrock) have no
 * public tokenizer: their counts are estimates from cl100k_base scaled by CLAUDE_ESTIMATE_FACTOR, labelled so.
 */
export const MODEL_ENCODINGS: Readonly<Record<string, EncodingName>> = {
  "gpt-5": "o200k_base",
  "gpt-4.1": "o200k_base",
  "gpt-4o": "o200k_base",
  "gpt-4.5": "o200k_base",
  "chatgpt-4o": "o200k_base",
  o1: "o200k_base",
  o3: "o200k_base",
  "o4-mini": "o200k_base",
  "gpt-oss": "o200k_base",
  "gpt-4": "cl100k_base",
  "gpt-3.5-turbo": "cl100k_base",
  "text-embedding-3": "cl100k_base",
  "text-embedding-ada-002": "cl100k_base",
  "davinci-002": "cl100k_base",
  "babbage-002": "cl100k_base",
};

/** Claude tokenizers yield more tokens than cl100k_base on English text; a deliberately conservative factor. */
export const CLAUDE_ESTIMATE_FACTOR = 1.15;

const CountOptionsSchema = z
  .strictObject({ encoding: z.enum(ENCODINGS).optional(), model: z.string().min(1).optional() })
  .refine((o) => !(o.encoding && o.model), { message: "pass either encoding or model, not both" });
export type CountOptions = z.input<typeof CountOptionsSchema>;

export interface TokenCount {
  tokens: number;
  /** The encoding used, or "claude-estimate". */
  encoding: EncodingName | "claude-estimate";
  /** true when the count is an estimate (Claude/Bedrock), not the provider's real tokenizer. */
  estimate: boolean;
}

const COUNTERS: Record<EncodingName, (text: string) => number> = {
  // Special-token text such as "<|endoftext|>" inside user data is counted as ordinary text, as the API does.
  o200k_base: (text) => countO200k(text, { disallowedSpecial: new Set() }),
  cl100k_base: (text) => countCl100k(text, { disallowedSpecial: new Set() }),
};

function isClaude(model: string): boolean {
  return /(^|[.:/])(anthropic\.)?claude/i.test(model) || model.toLowerCase().startsWith("claude");
}

/** The encoding for an OpenAI model name (fine-tuned names `ft:gpt-4o-mini-2024-07-18:org::id` included). */
export function encodingForModel(model: string): EncodingName | null {
  const base = model.startsWith("ft:") ? model.slice(3).split(":")[0] : model;
  let best: string | null = null;
  for (const prefix of Object.keys(MODEL_ENCODINGS)) {
    if (base.startsWith(prefix) && (best === null || prefix.length > best.length)) best = prefix;
  }
  return best === null ? null : MODEL_ENCODINGS[best];
}

/** Token count with its provenance. Default encoding o200k_base. */
export function countTokensDetailed(text: string, options: CountOptions = {}): TokenCount {
  const parsed = CountOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new UsageError("TOKENIZE_COUNT_OPTIONS_INVALID", `invalid token-count options ${JSON.stringify(options)}: ${parsed.error.issues.map((i) => i.message).join("; ")}`, {
      fix: `Pass { encoding: ${ENCODINGS.map((e) => `"${e}"`).join(" | ")} } or { model: "gpt-4o-mini" }.`,
    });
  }
  const { encoding, model } = parsed.data;
  if (model !== undefined) {
    if (isClaude(model)) {
      return { tokens: Math.ceil(COUNTERS.cl100k_base(text) * CLAUDE_ESTIMATE_FACTOR), encoding: "claude-estimate", estimate: true };
    }
    const forModel = encodingForModel(model);
    if (forModel === null) {
      throw new UsageError("TOKENIZE_UNKNOWN_MODEL", `no known tokenizer for model ${JSON.stringify(model)}`, {
        fix: `Pass an encoding (${ENCODINGS.join(", ")}) instead, or for a Hugging Face model count with loadTokenizer(dir).countTokens(text).`,
      });
    }
    return { tokens: COUNTERS[forModel](text), encoding: forModel, estimate: false };
  }
  const name = encoding ?? "o200k_base";
  return { tokens: COUNTERS[name](text), encoding: name, estimate: false };
}

/** The simple count src/data stats and validation use: real OpenAI encodings, o200k_base by default. */
export function countTokens(text: string, options: CountOptions = {}): number {
  return countTokensDetailed(text, options).tokens;
}
