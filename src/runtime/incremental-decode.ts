import type { Tokenizer } from "../tokenize/index.js";

/** Tokens before the uncommitted ones that are decoded with them: enough for spaces and merges at the seam. */
const CONTEXT = 6;

/**
 * The text of a growing completion, decoded per token in time independent of its length. Decoding prompt + all
 * ids again for every token (what a plain `decode` does) costs O(prompt + n) per token: at serving rates (tens of
 * thousands of tokens/s, 256-token prompts) that synchronous decode was the gateway relay's largest cost
 * (BENCHMARKS.md "Gateway in front of the serving worker"). Here only a few tokens of context plus the ids not yet
 * committed are decoded, and the difference to the context's own text is appended, as vLLM's and TGI's
 * detokenizers do. Text is committed once it does not end inside a character (U+FFFD); a seam where the window's
 * text does not extend its context's (a decoder that rewrites across tokens, e.g. space clean-up) falls back to
 * `full`, the decode of the whole completion in context, so the result is always what `full` would give.
 */
export class IncrementalDecoder {
  private readonly all: number[];
  private base: number; // ids in `all` before this index are committed as `committed`
  private committed = "";
  private contextText: string | null = null;
  private readonly promptLength: number;

  constructor(
    private readonly tokenizer: Tokenizer,
    promptIds: readonly number[],
    private readonly full: (ids: readonly number[]) => Promise<string>,
  ) {
    this.all = [...promptIds];
    this.base = this.all.length;
    this.promptLength = this.all.length;
  }

  /** Appends ids; resolves with the whole completion text so far (may end in U+FFFD until a character completes). */
  async push(ids: readonly number[]): Promise<string> {
    for (const id of ids) this.all.push(id);
    const start = Math.max(0, this.base - CONTEXT);
    const decode = (from: number, to?: number) => this.tokenizer.decode(this.all.slice(from, to), { skipSpecialTokens: true });
    this.contextText ??= await decode(start, this.base);
    const window = await decode(start);
    // A context that decodes to nothing (only special tokens) would lose a SentencePiece first token's space.
    const seamless = window.startsWith(this.contextText) && (this.contextText.length > 0 || start === this.base);
    const text = seamless ? this.committed + window.slice(this.contextText.length) : await this.full(this.all.slice(this.promptLength));
    if (!text.endsWith("\uFFFD")) {
      this.committed = text;
      this.base = this.all.length;
      this.contextText = null;
    }
    return text;
  }
}
