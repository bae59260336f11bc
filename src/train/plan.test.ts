import { describe, expect, it } from "vitest";
import { baseWeightBytes, countParameters, nf4BytesPerWeight } from "./plan.js";
import type { ModelConfig } from "./spec-check.js";

// Llama-3-8B's shape: 32 layers, hidden 4,096, 32 heads / 8 kv heads, MLP 14,336, vocabulary 128,256, untied.
const LLAMA3_8B = {
  architectures: ["LlamaForCausalLM"],
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  vocab_size: 128256,
  tie_word_embeddings: false,
} as ModelConfig;

describe("QLoRA memory estimate", () => {
  it("stores NF4 as 4 bits plus its block scales", () => {
    expect(nf4BytesPerWeight(false)).toBe(0.5625);
    expect(nf4BytesPerWeight(true)).toBeCloseTo(0.5 + 1 / 64 + 1 / 4096, 12);
  });

  it("quantizes only the layer projections of Llama-3-8B", () => {
    const n = countParameters(LLAMA3_8B);
    const projections = 32 * (4096 * 4096 * 2 + 4096 * 1024 * 2 + 3 * 4096 * 14336);
    const dense = n - projections; // embeddings, LM head, norms
    expect(baseWeightBytes(LLAMA3_8B, 2, "none", false)).toBe(n * 2);
    expect(baseWeightBytes(LLAMA3_8B, 2, "nf4", false)).toBe(dense * 2 + projections * 0.5625);
    // About 5.3 GiB instead of 15: what makes an 8B QLoRA step fit in 12 GiB.
    expect(baseWeightBytes(LLAMA3_8B, 2, "nf4", true) / 2 ** 30).toBeCloseTo(5.3, 1);
  });
});
