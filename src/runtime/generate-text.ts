import { buildPrompt, loadTokenizer, type BuiltPrompt, type Tokenizer } from "../tokenize/index.js";
import type { WorkerClient } from "./worker-client.js";
import type { GenerateParams } from "./worker-events.js";

/** Sampling and stopping for one generation. */
export interface SamplingOptions {
  adapterDir?: string;
  maxNewTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Text stop sequences: generation ends when one is produced; the returned text ends before it. */
  stop?: string[];
  /** Constrained decoding: the text is one of these strings (tokenized without BOS, as a continuation). */
  allowed?: string[];
  device?: string;
}

export interface GenerateTextOptions extends SamplingOptions {
  modelDir: string;
  prompt: string;
}

export interface GeneratedText {
  prompt: string;
  promptIds: number[];
  ids: number[];
  text: string;
  finishReason: "stop" | "length";
  promptTokens: number;
  completionTokens: number;
  seconds: number;
}

/**
 * Text in, text out through the worker: the prompt is tokenized by the training rule (buildPrompt: BOS for
 * plain text), the worker generates ids, TypeScript decodes. Stops at the tokenizer's eos / end-of-turn ids and
 * at `stop` strings. LocalModel (local-model.ts) is the pooled, tokenizer-caching form; this is the one-off.
 */
export async function generateText(worker: WorkerClient, options: GenerateTextOptions): Promise<GeneratedText> {
  const tokenizer = loadTokenizer(options.modelDir);
  const prompt = await buildPrompt({ text: options.prompt }, { tokenizer });
  return generateFromPrompt(worker, tokenizer, options.modelDir, prompt, options);
}

/** The sampling and stopping params a one-shot `generate` and a serving `submit` share, defaults applied. */
export type WorkerSamplingParams = Required<Pick<GenerateParams, "max_new_tokens" | "temperature" | "top_p" | "seed" | "stop_token_ids" | "stop_sequences">>;

/** Tokenizes texts as continuations (no BOS): how stop and allowed strings are matched against generated ids. */
export async function encodeContinuations(tokenizer: Tokenizer, texts: readonly string[]): Promise<number[][]> {
  return Promise.all(texts.map((s) => tokenizer.encode(s, { addSpecialTokens: false })));
}

/**
 * The worker's sampling params for `options`: the tokenizer's eos / end-of-turn ids and the `stop` strings as id
 * sequences (one that encodes to nothing is left out: the worker cannot match an empty sequence).
 */
export async function buildSamplingParams(tokenizer: Tokenizer, options: SamplingOptions, stop: readonly string[]): Promise<WorkerSamplingParams> {
  return {
    max_new_tokens: options.maxNewTokens ?? 64,
    temperature: options.temperature ?? 0,
    top_p: options.topP ?? 1,
    seed: options.seed ?? null,
    stop_token_ids: [...tokenizer.eosIds],
    stop_sequences: (await encodeContinuations(tokenizer, stop)).filter((ids) => ids.length > 0),
  };
}

/**
 * Where the first of the `stop` strings starts in `text`; null when none occurs. An empty stop string stops
 * nothing (it would "match" at 0 and empty every answer; the streaming path drops it the same way).
 */
export function firstStop(text: string, stop: readonly string[]): number | null {
  const at = stop.filter((s) => s.length > 0).map((s) => text.indexOf(s)).filter((i) => i >= 0);
  return at.length ? Math.min(...at) : null;
}

/** Generates from already built prompt ids (a chat or a text prompt) and decodes the completion in context. */
export async function generateFromPrompt(worker: WorkerClient, tokenizer: Tokenizer, modelDir: string, prompt: BuiltPrompt, options: SamplingOptions): Promise<GeneratedText> {
  const stop = options.stop ?? [];
  const sampling = await buildSamplingParams(tokenizer, options, stop);
  const allowed = options.allowed ? await encodeContinuations(tokenizer, options.allowed) : undefined;
  const started = performance.now();
  const result = await worker.generate({
    model_dir: modelDir,
    adapter_dir: options.adapterDir ?? null,
    prompts: [prompt.ids],
    ...sampling,
    ...(allowed ? { allowed_sequences: allowed } : {}),
    device: options.device ?? "auto",
  });
  const seconds = (performance.now() - started) / 1000;
  const out = result.outputs[0];
  // A matched stop *sequence* is decoded back in and cut at the text level: its ids may carry more than the
  // stop string (a SentencePiece "▁Lily" holds the space before "Lily"), and the text must end right before it.
  const tail = sampling.stop_sequences.length && out.finish_reason === "stop" ? (out.stop_ids ?? []) : [];
  let text = await decodeCompletion(tokenizer, prompt.ids, [...out.ids, ...tail]);
  let finishReason = out.finish_reason;
  const cut = firstStop(text, stop);
  if (cut !== null) {
    text = text.slice(0, cut);
    finishReason = "stop";
  }
  return {
    prompt: prompt.text,
    promptIds: prompt.ids,
    ids: out.ids,
    text,
    finishReason,
    promptTokens: result.prompt_tokens,
    completionTokens: result.completion_tokens,
    seconds,
  };
}

/**
 * The text generated ids add after the prompt, decoded in context: alone, a SentencePiece decoder drops the
 * leading space of the first token ("▁there" → "there"), which belongs to the continuation.
 */
export async function decodeCompletion(tokenizer: Tokenizer, promptIds: readonly number[], ids: readonly number[]): Promise<string> {
  const promptText = await tokenizer.decode(promptIds, { skipSpecialTokens: true });
  const fullText = await tokenizer.decode([...promptIds, ...ids], { skipSpecialTokens: true });
  return fullText.startsWith(promptText) ? fullText.slice(promptText.length) : tokenizer.decode(ids, { skipSpecialTokens: true });
}
