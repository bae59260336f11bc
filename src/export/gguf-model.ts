import { ConfigError } from "../errors/index.js";
import { FileType, GgmlType, type GgmlTypeId, type GgufValue } from "./gguf-encoding.js";
import type { SafetensorsTensor } from "./safetensors-source.js";

/**
 * config.json → llama.cpp's architecture, hyper-parameters and tensor names (convert_hf_to_gguf.py LlamaModel,
 * Qwen2Model, Qwen3Model). Mistral is written as `llama`, as llama.cpp expects.
 */
export const GGUF_ARCHITECTURES: Readonly<Record<string, string>> = {
  LlamaForCausalLM: "llama",
  MistralForCausalLM: "llama",
  Qwen2ForCausalLM: "qwen2",
  Qwen3ForCausalLM: "qwen3",
};

export type GgufQuant = "f16" | "q8_0";

export interface HfConfig {
  architectures?: string[];
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number | null;
  max_position_embeddings?: number;
  rms_norm_eps?: number;
  rope_theta?: number;
  rope_scaling?: { rope_type?: string; type?: string; factor?: number } | null;
  tie_word_embeddings?: boolean;
}

export interface ModelPlan {
  architecture: string;
  headDim: number;
  metadata: [string, GgufValue][];
}

export function planModel(config: HfConfig, name: string, quant: GgufQuant): ModelPlan {
  const hf = config.architectures?.[0] ?? "(none)";
  const arch = GGUF_ARCHITECTURES[hf];
  if (!arch) {
    throw new ConfigError("EXPORT_ARCHITECTURE_UNSUPPORTED", `GGUF export does not support architecture ${hf}`, {
      fix: `export a model of one of: ${Object.keys(GGUF_ARCHITECTURES).join(", ")}`,
    });
  }
  const heads = config.num_attention_heads;
  const headDim = config.head_dim ?? config.hidden_size / heads;
  const ropeType = config.rope_scaling ? (config.rope_scaling.rope_type ?? config.rope_scaling.type ?? "default") : "default";
  if (ropeType !== "default" && ropeType !== "linear") {
    throw new ConfigError("EXPORT_ROPE_UNSUPPORTED", `GGUF export does not support rope_scaling type ${ropeType}`, { fix: "export a model with plain or linear RoPE scaling" });
  }
  const u32 = (value: number): GgufValue => ({ type: "u32", value });
  const f32 = (value: number): GgufValue => ({ type: "f32", value });
  const md: [string, GgufValue][] = [
    ["general.architecture", { type: "string", value: arch }],
    ["general.name", { type: "string", value: name }],
    ["general.file_type", u32(quant === "f16" ? FileType.MOSTLY_F16 : FileType.MOSTLY_Q8_0)],
    ["general.quantization_version", u32(2)],
    [`${arch}.vocab_size`, u32(config.vocab_size)],
    [`${arch}.context_length`, u32(config.max_position_embeddings ?? 2048)],
    [`${arch}.embedding_length`, u32(config.hidden_size)],
    [`${arch}.block_count`, u32(config.num_hidden_layers)],
    [`${arch}.feed_forward_length`, u32(config.intermediate_size)],
    [`${arch}.attention.head_count`, u32(heads)],
    [`${arch}.attention.head_count_kv`, u32(config.num_key_value_heads ?? heads)],
    [`${arch}.attention.key_length`, u32(headDim)],
    [`${arch}.attention.value_length`, u32(headDim)],
    [`${arch}.rope.dimension_count`, u32(headDim)],
    [`${arch}.rope.freq_base`, f32(config.rope_theta ?? 10000)],
    [`${arch}.attention.layer_norm_rms_epsilon`, f32(config.rms_norm_eps ?? 1e-6)],
  ];
  if (ropeType === "linear") {
    md.push([`${arch}.rope.scaling.type`, { type: "string", value: "linear" }], [`${arch}.rope.scaling.factor`, f32(config.rope_scaling!.factor ?? 1)]);
  }
  return { architecture: arch, headDim, metadata: md };
}

const LAYER_NAMES: Readonly<Record<string, string>> = {
  "input_layernorm.weight": "attn_norm.weight",
  "self_attn.q_proj.weight": "attn_q.weight",
  "self_attn.k_proj.weight": "attn_k.weight",
  "self_attn.v_proj.weight": "attn_v.weight",
  "self_attn.o_proj.weight": "attn_output.weight",
  "self_attn.q_proj.bias": "attn_q.bias",
  "self_attn.k_proj.bias": "attn_k.bias",
  "self_attn.v_proj.bias": "attn_v.bias",
  "self_attn.q_norm.weight": "attn_q_norm.weight",
  "self_attn.k_norm.weight": "attn_k_norm.weight",
  "post_attention_layernorm.weight": "ffn_norm.weight",
  "mlp.gate_proj.weight": "ffn_gate.weight",
  "mlp.up_proj.weight": "ffn_up.weight",
  "mlp.down_proj.weight": "ffn_down.weight",
};

/** One tensor of the GGUF: where it comes from and how it is transformed. */
export interface TensorPlan {
  name: string;
  source: SafetensorsTensor;
  /** ne, innermost first. */
  dims: number[];
  type: GgmlTypeId;
  /** Heads to permute the rows of (llama's q/k for its RoPE layout), or null. */
  permuteHeads: number | null;
}

/** The HF tensor's GGUF name, or null when it is not written (a tied lm_head, rotary caches). */
export function ggufTensorName(hfName: string, tied: boolean): string | null {
  if (hfName === "model.embed_tokens.weight") return "token_embd.weight";
  if (hfName === "model.norm.weight") return "output_norm.weight";
  if (hfName === "lm_head.weight") return tied ? null : "output.weight";
  if (/\.rotary_emb\.inv_freq$/.test(hfName)) return null;
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(hfName);
  if (m && LAYER_NAMES[m[2]]) return `blk.${m[1]}.${LAYER_NAMES[m[2]]}`;
  throw new ConfigError("EXPORT_TENSOR_UNEXPECTED", `tensor ${hfName} has no place in a GGUF of this architecture`, {
    fix: "export a plain Llama/Mistral/Qwen2/Qwen3 checkpoint (merge the adapter first; no extra heads or vision towers)",
  });
}

/**
 * Every tensor in file order with its GGUF name and type: 1-D tensors (norms, biases) stay f32 as
 * convert_hf_to_gguf keeps them; matrices are f16, or q8_0 where a row splits into blocks of 32 (others f16).
 */
export function planTensors(tensors: ReadonlyMap<string, SafetensorsTensor>, config: HfConfig, plan: ModelPlan, quant: GgufQuant): TensorPlan[] {
  const tied = config.tie_word_embeddings === true || !tensors.has("lm_head.weight");
  const out: TensorPlan[] = [];
  for (const t of tensors.values()) {
    const name = ggufTensorName(t.name, tied);
    if (name === null) continue;
    const dims = [...t.shape].reverse();
    const matrix = dims.length >= 2;
    const type = !matrix ? GgmlType.F32 : quant === "q8_0" && dims[0] % 32 === 0 ? GgmlType.Q8_0 : GgmlType.F16;
    let permuteHeads: number | null = null;
    if (plan.architecture === "llama" && /\.attn_q\.weight$/.test(name)) permuteHeads = config.num_attention_heads;
    if (plan.architecture === "llama" && /\.attn_k\.weight$/.test(name)) permuteHeads = config.num_key_value_heads ?? config.num_attention_heads;
    out.push({ name, source: t, dims, type, permuteHeads });
  }
  for (const required of ["token_embd.weight", "output_norm.weight", "blk.0.attn_q.weight"]) {
    if (!out.some((t) => t.name === required)) {
      throw new ConfigError("EXPORT_TENSOR_MISSING", `the model has no tensor for ${required}`, { fix: "export a complete Hugging Face model folder (merge the adapter first)" });
    }
  }
  // A stable order: llama.cpp does not care, but identical inputs should give identical bytes.
  return out.sort((a, b) => tensorOrder(a.name) - tensorOrder(b.name) || a.name.localeCompare(b.name));
}

function tensorOrder(name: string): number {
  if (name === "token_embd.weight") return -1;
  const m = /^blk\.(\d+)\./.exec(name);
  if (m) return Number(m[1]);
  return 1e9;
}

/**
 * convert_hf_to_gguf's `permute` of llama q/k rows: HF stores each head's rotary pairs as two halves
 * (rows [0, d/2) and [d/2, d)), llama.cpp's RoPE wants them interleaved. Row h·d + 2i + j ← row h·d + j·d/2 + i.
 * `rows` holds whole heads of `rowElems` values each.
 */
export function permuteRows(rows: Float32Array, headRows: number, rowElems: number): Float32Array {
  const out = new Float32Array(rows.length);
  const half = headRows / 2;
  const heads = rows.length / rowElems / headRows;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const dst = (h * headRows + 2 * i + j) * rowElems;
        const src = (h * headRows + j * half + i) * rowElems;
        out.set(rows.subarray(src, src + rowElems), dst);
      }
    }
  }
  return out;
}
