import { z } from "zod";

export const StatsOptionsSchema = z.strictObject({
  labelField: z.string().min(1).optional().describe("metadata field holding the label/intent (default: the first of label, intent, category present)"),
  contextLimit: z.number().int().positive().default(16385).describe("tokens per example the target model accepts"),
  tokenizer: z.string().default("estimate").describe("name of the token counter, shown with every token figure"),
  duplicates: z.boolean().default(true).describe("measure exact and near duplicate rates"),
  pii: z.boolean().default(true).describe("measure PII rates"),
  topNgrams: z.number().int().min(0).default(20),
  ngram: z.number().int().min(1).max(6).default(3).describe("words per n-gram in the top n-grams list"),
});
export type StatsOptions = z.infer<typeof StatsOptionsSchema>;
export type StatsOptionsInput = z.input<typeof StatsOptionsSchema>;

/** Tokens in a text. tunekit's real counters come from src/tokenize; the default is an estimate. */
export type CountTokens = (text: string) => number;

/**
 * Tokens in many texts at once: the shape of a Hugging Face tokenizer.json counter, whose engine answers
 * asynchronously and is fastest given a batch (Rust threads).
 */
export interface BatchCountTokens {
  countBatch(texts: string[]): Promise<number[]>;
}

/** ~4 characters per token for English BPE vocabularies; labelled "estimate" wherever shown. */
export const estimateTokens: CountTokens = (text) => Math.ceil(text.length / 4);

/** Chat formats add a few tokens per message (role markers, separators); OpenAI documents ~3–4. */
export const MESSAGE_OVERHEAD_TOKENS = 4;
