import { describe, expect, it } from "vitest";
import { STORIES260K } from "../test-support/paths.js";
import { loadTokenizer, type Tokenizer } from "../tokenize/index.js";
import { IncrementalDecoder } from "./incremental-decode.js";

// stories260k: SentencePiece with byte fallback, so "é" and "🙂" are several tokens each and "▁" carries spaces.
const tokenizer = loadTokenizer(STORIES260K);
const encode = (s: string) => tokenizer.encode(s, { addSpecialTokens: false });

/** The reference: prompt + completion decoded whole, the prompt's text cut off (as stream-text.ts did per token). */
function fullDecoder(promptIds: number[], calls: { n: number; tokens: number }) {
  return async (ids: readonly number[]) => {
    const all = [...promptIds, ...ids];
    calls.n++;
    calls.tokens += all.length;
    return (await tokenizer.decode(all, { skipSpecialTokens: true })).slice((await tokenizer.decode(promptIds, { skipSpecialTokens: true })).length);
  };
}

/** Counts the ids each tokenizer.decode is given. */
function counting(t: Tokenizer, seen: number[]): Tokenizer {
  return { ...t, decode: (ids, o) => (seen.push(ids.length), t.decode(ids, o)) };
}

describe("IncrementalDecoder", () => {
  it("gives the whole-decode text after every token, through spaces and multi-byte characters", async () => {
    const prompt = await encode("Once upon a time, a girl said:");
    const reply = await encode(" \"Zoé 🙂 and Lily went to the park. 日本 is far.\" The end.");
    const calls = { n: 0, tokens: 0 };
    const full = fullDecoder(prompt, calls);
    const sizes: number[] = [];
    const fallbacks: string[] = [];
    const decoder = new IncrementalDecoder(counting(tokenizer, sizes), prompt, async (ids) => {
      const text = await full(ids);
      fallbacks.push(text);
      return text;
    });
    const seen: string[] = [];
    for (let i = 0; i < reply.length; i++) {
      const text = await decoder.push([reply[i]]);
      const expected = await full(reply.slice(0, i + 1));
      if (!expected.endsWith("\uFFFD")) expect(text).toBe(expected);
      seen.push(text);
    }
    expect(seen.at(-1)).toContain("Zoé 🙂");
    expect(seen.some((t) => t.endsWith("\uFFFD"))).toBe(true); // the byte-fallback path was exercised
    // Each decode saw the context and the ids not yet committed, never the prompt + the whole completion. The
    // whole decode ran only where a byte run grew past a finished character (the tokenizer then turns the run's
    // every byte into U+FFFD, so the window no longer extends its context's text).
    expect(Math.max(...sizes)).toBeLessThan(12);
    expect(fallbacks.length).toBeLessThan(4);
    expect(fallbacks.every((t) => t.endsWith("\uFFFD"))).toBe(true);
  });

  it("takes several ids at once and keeps a first token's space after a prompt of special tokens only", async () => {
    const bos = tokenizer.bosId!;
    const reply = await encode(" there was a dog");
    const calls = { n: 0, tokens: 0 };
    const decoder = new IncrementalDecoder(tokenizer, [bos], fullDecoder([bos], calls));
    expect(await decoder.push(reply.slice(0, 2))).toBe(await fullDecoder([bos], calls)(reply.slice(0, 2)));
    expect(await decoder.push(reply.slice(2))).toBe(await fullDecoder([bos], calls)(reply));
  });
});
