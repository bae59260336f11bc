import { countTokens as countO200k } from "gpt-tokenizer/encoding/o200k_base";
import { countTokens as countCl100k } from "gpt-tokenizer/encoding/cl100k_base";
import { OPENAI_RULES } from "./rules/openai.js";

/**
 * Token counting for validation limits, over OpenAI encodings via gpt-tokenizer. Kept behind this small
 * function so src/tokenize (the tokenization issue) can replace it with its own counters without touching the
 * checkers.
 */
export type OpenAiEncoding = "o200k_base" | "cl100k_base";

export interface CountableMessage {
  content?: unknown;
  name?: unknown;
  tool_calls?: unknown;
}

const COUNTERS: Record<OpenAiEncoding, (text: string) => number> = {
  o200k_base: countO200k,
  cl100k_base: countCl100k,
};

export function countTextTokens(text: string, encoding: OpenAiEncoding): number {
  return COUNTERS[encoding](text);
}

/** Text of a message that is billed as tokens: content, name and tool call names/arguments. */
function messageText(m: CountableMessage): string {
  let s = typeof m.content === "string" ? m.content : "";
  if (Array.isArray(m.tool_calls)) {
    for (const call of m.tool_calls as { function?: { name?: unknown; arguments?: unknown } }[]) {
      const fn = call?.function;
      if (typeof fn?.name === "string") s += fn.name;
      if (typeof fn?.arguments === "string") s += fn.arguments;
    }
  }
  return s;
}

/**
 * An upper bound on the chat token count without tokenizing: every token is at least one UTF-8 byte and every
 * UTF-16 code unit is at most three bytes. When the bound is under a limit, exact counting can be skipped.
 */
export function chatTokenUpperBound(messages: readonly CountableMessage[]): number {
  let n = OPENAI_RULES.tokensReplyPriming;
  for (const m of messages) {
    n += OPENAI_RULES.tokensPerMessage + 1 + messageText(m).length * 3;
    if (typeof m.name === "string") n += OPENAI_RULES.tokensPerName + m.name.length * 3;
  }
  return n;
}

/** Chat tokens as OpenAI bills a training example (cookbook formula: per message, per name, reply priming). */
export function countChatTokens(messages: readonly CountableMessage[], encoding: OpenAiEncoding): number {
  const count = COUNTERS[encoding];
  let n = OPENAI_RULES.tokensReplyPriming;
  for (const m of messages) {
    n += OPENAI_RULES.tokensPerMessage + 1; // +1: the role
    n += count(messageText(m));
    if (typeof m.name === "string") n += OPENAI_RULES.tokensPerName + count(m.name);
  }
  return n;
}

/** Exact count only when the cheap bound could exceed `limit`; otherwise the bound is returned as "fits". */
export function chatTokensIfNear(
  messages: readonly CountableMessage[],
  limit: number,
  encoding: OpenAiEncoding,
): number | undefined {
  if (chatTokenUpperBound(messages) <= limit) return undefined;
  return countChatTokens(messages, encoding);
}
