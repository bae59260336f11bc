import type { BuiltPrompt, Tokenizer } from "../tokenize/index.js";
import { IncrementalDecoder } from "./incremental-decode.js";
import { buildSamplingParams, firstStop, type GeneratedText, type SamplingOptions } from "./generate-text.js";
import type { ServingWorker } from "./serving-worker.js";
import type { SubmitResult } from "./worker-events.js";

/** A finished streamed generation; "cancelled" when the caller's signal ended it. */
export type StreamedText = Omit<GeneratedText, "finishReason"> & { finishReason: "stop" | "length" | "cancelled" };

/** One piece of a streamed generation: new text as soon as it is final, then the whole result. */
export type StreamPiece = { type: "text"; text: string } | { type: "done"; result: StreamedText };

/**
 * Streams a completion through a serving worker, decoded incrementally: the running ids are decoded in context
 * (after the prompt's text, so a SentencePiece first token keeps its leading space; incremental-decode.ts keeps
 * that per-token work independent of the length) and only the new suffix is sent. A token that ends inside a
 * multi-byte character (U+FFFD at the end) waits for the token that completes it; text that could be the start of a `stop` string waits until it is clear it is not; a `stop` string found
 * in the text ends the request (the worker is told to cancel, freeing the slot) and the text ends before it.
 * Aborting `signal` (a client gone) cancels the request in the worker.
 */
export async function* streamFromPrompt(serving: ServingWorker, tokenizer: Tokenizer, prompt: BuiltPrompt, options: SamplingOptions, signal?: AbortSignal): AsyncGenerator<StreamPiece> {
  const stop = (options.stop ?? []).filter((s) => s.length > 0);
  const sampling = await buildSamplingParams(tokenizer, options, stop);
  const promptText = await tokenizer.decode(prompt.ids, { skipSpecialTokens: true });
  const decode = async (ids: readonly number[]) => {
    const full = await tokenizer.decode([...prompt.ids, ...ids], { skipSpecialTokens: true });
    return full.startsWith(promptText) ? full.slice(promptText.length) : tokenizer.decode([...ids], { skipSpecialTokens: true });
  };
  const incremental = new IncrementalDecoder(tokenizer, prompt.ids, decode);
  const local = new AbortController();
  const forward = () => local.abort();
  if (signal?.aborted) local.abort();
  else signal?.addEventListener("abort", forward, { once: true });
  const started = performance.now();
  const ids: number[] = [];
  let sent = "";
  let stoppedAt: number | null = null; // a stop string ended the text here
  let result: SubmitResult | null = null;
  try {
    const events = serving.submit({ prompt: prompt.ids, ...sampling }, options.adapterDir, local.signal);
    for await (const event of events) {
      if (event.event === "done") result = event.result as unknown as SubmitResult;
      if (event.event !== "token" || stoppedAt !== null) continue;
      ids.push(...event.ids);
      const text = await incremental.push(event.ids);
      const cut = firstStop(text, stop);
      if (cut !== null) {
        stoppedAt = cut;
        local.abort(); // done arrives as "cancelled": this side ended it
        if (cut > sent.length) yield { type: "text", text: text.slice(sent.length, cut) };
        sent = text.slice(0, cut);
        continue;
      }
      if (text.endsWith("\uFFFD")) continue;
      const safe = text.slice(0, text.length - heldBack(text, stop));
      if (safe.length > sent.length && safe.startsWith(sent)) {
        yield { type: "text", text: safe.slice(sent.length) };
        sent = safe;
      }
    }
  } finally {
    signal?.removeEventListener("abort", forward);
  }
  if (!result) throw new Error("serving worker ended a submit without done");
  let finishReason: StreamedText["finishReason"] = result.finish_reason;
  let text: string;
  if (stoppedAt !== null) {
    text = sent;
    finishReason = "stop";
  } else {
    // A matched stop sequence is decoded back in and cut at the text level (generate-text.ts explains why).
    const tail = sampling.stop_sequences.length && result.finish_reason === "stop" ? result.stop_ids : [];
    text = await decode([...result.ids, ...tail]);
    const cut = firstStop(text, stop);
    if (cut !== null) {
      text = text.slice(0, cut);
      finishReason = "stop";
    }
    if (text.length > sent.length && text.startsWith(sent)) yield { type: "text", text: text.slice(sent.length) };
  }
  yield {
    type: "done",
    result: {
      prompt: prompt.text,
      promptIds: prompt.ids,
      ids: result.ids,
      text,
      finishReason,
      promptTokens: result.prompt_tokens,
      completionTokens: result.completion_tokens,
      seconds: (performance.now() - started) / 1000,
    },
  };
}

/** Length of the longest end of `text` that is a proper prefix of a stop string (may still become one). */
function heldBack(text: string, stop: readonly string[]): number {
  let best = 0;
  for (const s of stop) {
    for (let k = Math.min(s.length - 1, text.length); k > best; k--) {
      if (text.endsWith(s.slice(0, k))) {
        best = k;
        break;
      }
    }
  }
  return best;
}
