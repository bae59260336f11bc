import { describe, expect, it } from "vitest";
import { STORIES260K } from "../test-support/paths.js";
import { buildPrompt, loadTokenizer } from "../tokenize/index.js";
import type { ServingWorker } from "./serving-worker.js";
import { streamFromPrompt, type StreamPiece } from "./stream-text.js";
import type { SubmitParams, WorkerEvent } from "./worker-events.js";

// stories260k: SentencePiece with byte fallback, so "é" and "🙂" are several tokens each and "▁" carries spaces.
const tokenizer = loadTokenizer(STORIES260K);

/** A serving worker that answers every submit with `reply`'s ids, one token event each. */
function fakeServing(replyIds: number[], seen: { params?: Omit<SubmitParams, "adapter">; cancelled?: boolean }): ServingWorker {
  return {
    async *submit(params: Omit<SubmitParams, "adapter">, _adapter: string | undefined, signal?: AbortSignal): AsyncGenerator<WorkerEvent> {
      seen.params = params;
      const ids: number[] = [];
      for (const id of replyIds) {
        if (signal?.aborted) {
          seen.cancelled = true;
          break;
        }
        ids.push(id);
        yield { event: "token", ids: [id] };
      }
      const reason = seen.cancelled ? "cancelled" : "length";
      yield { event: "done", result: { ids, finish_reason: reason, stop_ids: [], prompt_tokens: params.prompt.length, completion_tokens: ids.length } };
    },
  } as unknown as ServingWorker;
}

async function collect(pieces: AsyncGenerator<StreamPiece>) {
  const texts: string[] = [];
  for await (const p of pieces) {
    if (p.type === "text") texts.push(p.text);
    else return { texts, result: p.result };
  }
  throw new Error("no done piece");
}

describe("streamFromPrompt", () => {
  it("sends only whole characters, keeps SentencePiece spaces, and ends with the full text", async () => {
    const prompt = await buildPrompt({ text: "Once upon a time" }, { tokenizer });
    const reply = await tokenizer.encode(" there was Zoé 🙂 and", { addSpecialTokens: false });
    const seen: { params?: Omit<SubmitParams, "adapter"> } = {};
    const { texts, result } = await collect(streamFromPrompt(fakeServing(reply, seen), tokenizer, prompt, { maxNewTokens: 50 }));
    const full = (await tokenizer.decode([...prompt.ids, ...reply], { skipSpecialTokens: true })).slice("Once upon a time".length);
    expect(full).toContain("Zoé 🙂");
    expect(texts.join("")).toBe(full);
    expect(texts.some((t) => t.includes("\uFFFD"))).toBe(false);
    expect(texts.length).toBeGreaterThan(4); // streamed piece by piece, not at the end
    expect(texts[0].startsWith(" ")).toBe(true); // the first token's space belongs to the continuation
    expect({ text: result.text, finishReason: result.finishReason, ids: result.ids }).toEqual({ text: full, finishReason: "length", ids: reply });
    expect(seen.params).toEqual({ prompt: prompt.ids, max_new_tokens: 50, temperature: 0, top_p: 1, seed: null, stop_token_ids: [...tokenizer.eosIds], stop_sequences: [] });
  });

  it("holds text that may start a stop string and ends (cancelling the worker request) when one appears", async () => {
    const prompt = await buildPrompt({ text: "Once" }, { tokenizer });
    const reply = await tokenizer.encode("upon a time END there was more text", { addSpecialTokens: false });
    const full = (await tokenizer.decode([...prompt.ids, ...reply], { skipSpecialTokens: true })).slice("Once".length);
    const before = full.slice(0, full.indexOf("END"));
    expect(before).toMatch(/upon a time $/);
    const seen: { cancelled?: boolean } = {};
    const { texts, result } = await collect(streamFromPrompt(fakeServing(reply, seen), tokenizer, prompt, { stop: ["END"] }));
    expect(texts.join("")).toBe(before);
    expect(texts.some((t) => t.includes("E"))).toBe(false);
    expect([result.text, result.finishReason, seen.cancelled]).toEqual([before, "stop", true]);
  });
});
