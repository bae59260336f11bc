import { describe, expect, it } from "vitest";
import { permuteRows, planModel } from "./gguf-model.js";

describe("model plan", () => {
  it("interleaves each head's rotary halves as convert_hf_to_gguf's permute does", () => {
    const rows = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...permuteRows(rows, 4, 1)]).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    expect([...permuteRows(new Float32Array([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]), 4, 2)]).toEqual([0, 0.5, 2, 2.5, 1, 1.5, 3, 3.5]);
  });

  const config = { architectures: ["LlamaForCausalLM"], vocab_size: 8, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2 };

  it("writes Mistral as llama and Qwen2 as qwen2", () => {
    expect(planModel({ ...config, architectures: ["MistralForCausalLM"] }, "m", "f16").architecture).toBe("llama");
    expect(planModel({ ...config, architectures: ["Qwen2ForCausalLM"] }, "q", "f16").architecture).toBe("qwen2");
  });

  it("refuses an unsupported architecture with the supported list (EXPORT_ARCHITECTURE_UNSUPPORTED)", () => {
    expect(() => planModel({ ...config, architectures: ["Gemma2ForCausalLM"] }, "g", "f16")).toThrow(
      expect.objectContaining({ code: "EXPORT_ARCHITECTURE_UNSUPPORTED", fix: "export a model of one of: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM" }),
    );
  });

  it("refuses RoPE scaling llama.cpp needs extra tensors for (EXPORT_ROPE_UNSUPPORTED)", () => {
    expect(() => planModel({ ...config, rope_scaling: { rope_type: "llama3", factor: 8 } }, "l", "f16")).toThrow(expect.objectContaining({ code: "EXPORT_ROPE_UNSUPPORTED" }));
  });
});
