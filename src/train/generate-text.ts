import { loadTokenizer } from "../tokenize/load-tokenizer.js";
import type { WorkerClient } from "./worker-client.js";

export interface GenerateTextOptions {
  modelDir: string;
  adapterDir?: string;
  prompt: string;
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
 * Text in, text out through the worker: TypeScript tokenizes (with the model's BOS where its tokenizer adds one)
 * and decodes; the worker generates ids. Stops at the tokenizer's eos / end-of-turn ids and at `stop` strings.
 */
export async function generateText(worker: WorkerClient, options: GenerateTextOptions): Promise<GeneratedText> {
  const tokenizer = loadTokenizer(options.modelDir);
  const promptIds = await tokenizer.encode(options.prompt, { addSpecialTokens: true });
  const stop = options.stop ?? [];
  const stopSequences = (await Promise.all(stop.map((s) => tokenizer.encode(s, { addSpecialTokens: false })))).filter((ids) => ids.length > 0);
  const allowed = options.allowed ? await Promise.all(options.allowed.map((s) => tokenizer.encode(s, { addSpecialTokens: false }))) : undefined;
  const started = performance.now();
  const result = await worker.generate({
    model_dir: options.modelDir,
    adapter_dir: options.adapterDir ?? null,
    prompts: [promptIds],
    max_new_tokens: options.maxNewTokens ?? 64,
    temperature: options.temperature ?? 0,
    top_p: options.topP ?? 1,
    seed: options.seed ?? null,
    stop_token_ids: [...tokenizer.eosIds],
    stop_sequences: stopSequences,
    ...(allowed ? { allowed_sequences: allowed } : {}),
    device: options.device ?? "auto",
  });
  const seconds = (performance.now() - started) / 1000;
  const out = result.outputs[0];
  const promptText = await tokenizer.decode(promptIds, { skipSpecialTokens: true });
  // A matched stop *sequence* is decoded back in and cut at the text level: its ids may carry more than the
  // stop string (a SentencePiece "▁Lily" holds the space before "Lily"), and the text must end right before it.
  const tail = stopSequences.length && out.finish_reason === "stop" ? (out.stop_ids ?? []) : [];
  const fullText = await tokenizer.decode([...promptIds, ...out.ids, ...tail], { skipSpecialTokens: true });
  let text = fullText.startsWith(promptText) ? fullText.slice(promptText.length) : await tokenizer.decode([...out.ids, ...tail], { skipSpecialTokens: true });
  let finishReason = out.finish_reason;
  const cuts = stop.map((s) => text.indexOf(s)).filter((at) => at >= 0);
  if (cuts.length) {
    text = text.slice(0, Math.min(...cuts));
    finishReason = "stop";
  }
  return {
    prompt: options.prompt,
    promptIds,
    ids: out.ids,
    text,
    finishReason,
    promptTokens: result.prompt_tokens,
    completionTokens: result.completion_tokens,
    seconds,
  };
}
