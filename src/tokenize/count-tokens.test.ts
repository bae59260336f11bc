import { describe, expect, it } from "vitest";
import { CLAUDE_ESTIMATE_FACTOR, countTokens, countTokensDetailed, encodingForModel } from "./count-tokens.js";

describe("countTokens", () => {
  it("counts with the real OpenAI encodings", () => {
    expect(countTokens("hello world")).toBe(2);
    expect(countTokens("hello world", { encoding: "cl100k_base" })).toBe(2);
    // o200k and cl100k differ on non-English text.
    const text = "日本語のテキストを数えます";
    expect(countTokens(text, { encoding: "o200k_base" })).not.toBe(countTokens(text, { encoding: "cl100k_base" }));
    // Special-token text in user data counts as text, never throws.
    expect(countTokens("a <|endoftext|> b")).toBeGreaterThan(3);
  });

  it("maps models to encodings, fine-tuned names included", () => {
    expect(encodingForModel("gpt-4o-mini-2024-07-18")).toBe("o200k_base");
    expect(encodingForModel("gpt-4.1-nano")).toBe("o200k_base");
    expect(encodingForModel("gpt-4-0613")).toBe("cl100k_base");
    expect(encodingForModel("gpt-3.5-turbo-0125")).toBe("cl100k_base");
    expect(encodingForModel("ft:gpt-4o-mini-2024-07-18:acme::abc123")).toBe("o200k_base");
    expect(encodingForModel("llama-3")).toBeNull();
    expect(countTokensDetailed("hello world", { model: "gpt-4o" })).toEqual({ tokens: 2, encoding: "o200k_base", estimate: false });
  });

  it("labels Claude/Bedrock counts as estimates", () => {
    const text = "Please reset my password for the account.";
    const count = countTokensDetailed(text, { model: "anthropic.claude-3-haiku-20240307-v1:0" });
    expect(count).toEqual({ tokens: Math.ceil(countTokens(text, { encoding: "cl100k_base" }) * CLAUDE_ESTIMATE_FACTOR), encoding: "claude-estimate", estimate: true });
    expect(countTokensDetailed(text, { model: "claude-sonnet-4" }).estimate).toBe(true);
  });

  it("TOKENIZE_UNKNOWN_MODEL and TOKENIZE_COUNT_OPTIONS_INVALID", () => {
    expect(() => countTokens("x", { model: "mistral-7b" })).toThrow(expect.objectContaining({ code: "TOKENIZE_UNKNOWN_MODEL" }));
    expect(() => countTokens("x", { model: "gpt-4o", encoding: "o200k_base" })).toThrow(expect.objectContaining({ code: "TOKENIZE_COUNT_OPTIONS_INVALID" }));
    expect(() => countTokens("x", { encoding: "p50k" as never })).toThrow(expect.objectContaining({ code: "TOKENIZE_COUNT_OPTIONS_INVALID" }));
  });
});
