import { totalmem } from "node:os";
import type { ShardHeader } from "../tokenize/index.js";
import type { Hardware } from "./hardware.js";
import type { ModelConfig, ResolvedTrainSpec } from "./spec-check.js";
import { stepsFor } from "./train-params.js";

/** The resolved plan `tunekit train --dry-run` prints. Time and memory are estimates, labelled as such. */
export interface TrainPlan {
  provider: string;
  model: { dir: string; architecture: string; parameters: number };
  method: "lora" | "full";
  trainableParameters: number;
  dataset: { version: string; ref: string; records: Record<string, number> };
  data: {
    seqLen: number;
    packing: boolean;
    trainSequences: number;
    tokensPerEpoch: number;
    trainedTokensPerEpoch: number;
    valSequences: number;
    valTokens: number;
    truncatedDocuments: number;
  };
  steps: { epochs: number; batchesPerEpoch: number; stepsPerEpoch: number; totalSteps: number; sequencesPerStep: number; tokensPerStep: number };
  hardware: Hardware;
  estimate: {
    flopsPerToken: number;
    totalFlops: number;
    seconds: number;
    memory: { weights: number; gradients: number; optimizer: number; activations: number; total: number; available: number | null };
    fits: boolean | null;
    notes: string[];
  };
}

const GEMMA = ["Gemma2ForCausalLM", "Gemma3ForCausalLM"];
const QK_NORM = ["Qwen3ForCausalLM", "Qwen3MoeForCausalLM", "Gemma3ForCausalLM"];

/** Per layer, whether its MLP is Qwen3-MoE's expert block (the worker's models/config.py rule). */
export function sparseLayers(c: ModelConfig): boolean[] {
  const experts = Number(c.num_experts ?? 0);
  const step = Number(c.decoder_sparse_step ?? 1);
  const dense = new Set((c.mlp_only_layers as number[] | undefined) ?? []);
  const moe = c.architectures?.[0] === "Qwen3MoeForCausalLM";
  return Array.from({ length: c.num_hidden_layers }, (_, i) => moe && experts > 0 && !dense.has(i) && (i + 1) % step === 0);
}

function mlpParameters(c: ModelConfig, sparse: boolean, active: boolean): number {
  if (!sparse) return 3 * c.hidden_size * c.intermediate_size;
  const experts = Number(c.num_experts);
  const used = active ? Number(c.num_experts_per_tok) : experts;
  return experts * c.hidden_size + used * 3 * c.hidden_size * Number(c.moe_intermediate_size); // router + experts
}

/**
 * Parameters from config.json (embeddings, attention with GQA and biases, MLP or experts, norms). `active`: only
 * the experts one token runs through (Qwen3-MoE: num_experts_per_tok of num_experts), which sets the FLOPs.
 */
export function countParameters(c: ModelConfig, active = false): number {
  const arch = c.architectures?.[0] ?? "";
  const h = c.hidden_size;
  const heads = c.num_attention_heads;
  const kv = c.num_key_value_heads ?? heads;
  const hd = c.head_dim ?? h / heads;
  const qkvBias = c.attention_bias || arch === "Qwen2ForCausalLM" ? (heads + 2 * kv) * hd : 0;
  const qkNorm = QK_NORM.includes(arch) ? 2 * hd : 0;
  const attention = h * heads * hd + 2 * h * kv * hd + heads * hd * h + qkvBias + qkNorm;
  const norms = (GEMMA.includes(arch) ? 4 : 2) * h; // Gemma: pre- and post- norms around attention and the MLP
  const layers = sparseLayers(c).reduce((sum, sparse) => sum + attention + norms + mlpParameters(c, sparse, active), 0);
  const embed = c.vocab_size * h;
  const tied = c.tie_word_embeddings ?? GEMMA.includes(arch); // Gemma ties by default
  const head = tied ? 0 : c.vocab_size * h;
  return embed + layers + h + head;
}

/** [in, out] of each projection LoRA can wrap (the worker's lora_target_modules), for one layer. */
export function loraProjectionShapes(c: ModelConfig): Record<string, [number, number]> {
  const h = c.hidden_size;
  const heads = c.num_attention_heads;
  const kv = c.num_key_value_heads ?? heads;
  const hd = c.head_dim ?? h / heads;
  return {
    q_proj: [h, heads * hd],
    k_proj: [h, kv * hd],
    v_proj: [h, kv * hd],
    o_proj: [heads * hd, h],
    gate_proj: [h, c.intermediate_size],
    up_proj: [h, c.intermediate_size],
    down_proj: [c.intermediate_size, h],
    qkv_proj: [h, (heads + 2 * kv) * hd], // Phi-3: q, k and v in one projection
    gate_up_proj: [h, 2 * c.intermediate_size], // Phi-3: gate and up in one projection
  };
}

/** Projections that exist in a layer: Phi-3 has fused ones, Qwen3-MoE expert layers have no dense MLP (experts get no LoRA). */
function layerProjections(c: ModelConfig, sparse: boolean): Set<string> {
  const fused = c.architectures?.[0] === "Phi3ForCausalLM";
  const attention = fused ? ["qkv_proj", "o_proj"] : ["q_proj", "k_proj", "v_proj", "o_proj"];
  const mlp = sparse ? [] : fused ? ["gate_up_proj", "down_proj"] : ["gate_proj", "up_proj", "down_proj"];
  return new Set([...attention, ...mlp]);
}

/** NF4 storage per weight: 4 bits + a float32 absmax per 64 (or, double-quantized, 8 bits per 64 + float32 per 64·256). */
export function nf4BytesPerWeight(doubleQuant: boolean): number {
  return 0.5 + (doubleQuant ? 1 / 64 + 4 / (64 * 256) : 4 / 64);
}

/** Bytes of the frozen base: quantize nf4 stores every layer projection in NF4 (the worker quantizes each one LoRA
 * can wrap); embeddings, the LM head and norms stay in the training dtype. */
export function baseWeightBytes(c: ModelConfig, bytes: number, quantize: "none" | "nf4", doubleQuant: boolean): number {
  const n = countParameters(c);
  if (quantize === "none") return n * bytes;
  const shapes = loraProjectionShapes(c);
  const projections = sparseLayers(c).reduce((total, sparse) => {
    let sum = 0;
    for (const t of layerProjections(c, sparse)) sum += shapes[t]![0] * shapes[t]![1];
    return total + sum;
  }, 0);
  return (n - projections) * bytes + projections * nf4BytesPerWeight(doubleQuant);
}

/** LoRA A and B matrices: r × (in + out) per targeted projection per layer that has it. */
export function countLoraParameters(c: ModelConfig, r: number, targets: readonly string[]): number {
  const shapes = loraProjectionShapes(c);
  return sparseLayers(c).reduce((total, sparse) => {
    const present = layerProjections(c, sparse);
    return (
      total +
      targets.reduce((sum, t) => {
        const shape = shapes[t];
        // plan.test.ts checks every worker target has a shape; this guards a model-support.json edited alone.
        if (!shape) throw new Error(`no projection shape for LoRA target ${JSON.stringify(t)}: add it to loraProjectionShapes (src/train/plan.ts)`);
        return present.has(t) ? sum + r * (shape[0] + shape[1]) : sum;
      }, 0)
    );
  }, 0);
}

export function buildPlan(resolved: ResolvedTrainSpec, header: ShardHeader, hardware: Hardware): TrainPlan {
  const { spec, modelConfig: c } = resolved;
  const n = countParameters(c);
  const lora = spec.method === "lora";
  const trainable = lora ? countLoraParameters(c, spec.lora.r, spec.lora.targetModules) : n;
  const train = header.splits.train!;
  const val = header.splits.val;
  // Preference runs sample pairs (two rows each): batchSize counts pairs.
  const rowsPerUnit = spec.objective === "sft" ? 1 : 2;
  const steps = stepsFor(spec, train.sequences / rowsPerUnit, spec.processes);
  const sequencesPerStep = spec.batchSize * spec.gradAccum * spec.processes * rowsPerUnit;
  const tokensPerStep = sequencesPerStep * spec.seqLen;

  // FLOPs: forward 2N per token; backward 4N for full fine-tuning (grads of activations and weights), ~2N for
  // LoRA (activation grads only: the frozen weights need none). Attention's S² term adds 12·L·H·S per token.
  const attention = 12 * c.num_hidden_layers * c.hidden_size * spec.seqLen;
  // Checkpointed layers run their forward twice.
  const gc = spec.gradientCheckpointing;
  const recomputedShare = Math.min(1, gc === true ? 1 : Number(gc) / c.num_hidden_layers);
  const active = countParameters(c, true); // MoE: a token runs through num_experts_per_tok experts only
  const flopsPerToken = (lora ? 4 : 6) * active + 2 * active * recomputedShare + attention;
  const evalFlops = val && spec.eval.enabled ? 2 * active * val.sequences * spec.seqLen * Math.ceil(steps.totalSteps / spec.eval.everySteps) : 0;
  const totalFlops = flopsPerToken * tokensPerStep * steps.totalSteps + evalFlops;
  // Assumed utilisation of peak: well-fed GPUs reach ~35–45 % in training; CPUs lose more to non-matmul work.
  const utilisation = hardware.kind === "cuda" ? 0.35 : 0.3;
  const overheadPerStep = hardware.kind === "cuda" ? 0.03 : 0.01 * c.num_hidden_layers;
  // Several processes share the work: one GPU each; on CPU they share the same cores.
  const devices = hardware.kind === "cuda" ? Math.min(spec.processes, Math.max(1, hardware.gpus)) : 1;
  const seconds = totalFlops / (hardware.peakTflops * 1e12 * utilisation * devices) + overheadPerStep * steps.totalSteps;

  const bytes = spec.dtype === "float32" || (spec.dtype === "auto" && hardware.kind === "cpu") ? 4 : 2;
  // fsdp: each GPU holds 1/processes of the weights, gradients and optimizer states (plus one layer gathered).
  const shards = spec.distributed === "fsdp" ? spec.processes : 1;
  const weights = (baseWeightBytes(c, bytes, spec.quantize, spec.doubleQuant) + (lora ? trainable * bytes : 0)) / shards;
  const gradients = (trainable * bytes) / shards;
  const optimizer = (2 * trainable * bytes) / shards;
  const activations = activationBytes(c, spec.batchSize, spec.seqLen, bytes, spec.gradientCheckpointing);
  const total = Math.round((weights + gradients + optimizer + activations) * 1.1); // +10 %: allocator, buffers
  const available = hardware.kind === "cuda" ? hardware.memoryBytes : totalmem();
  const notes = [
    "time and memory are estimates, not measurements",
    `time assumes ${Math.round(utilisation * 100)} % of ${hardware.peakTflops >= 1 ? `${hardware.peakTflops} TFLOP/s` : `${(hardware.peakTflops * 1000).toFixed(1)} GFLOP/s`} (${hardware.source}) on ${hardware.name}`,
    `memory: weights + trainable gradients + AdamW states${shards > 1 ? ` (sharded over ${shards} GPUs)` : ""} + activations of one micro-batch, +10 %`,
  ];
  if (spec.quantize === "nf4") notes.push(`weights: layer projections in NF4 (${nf4BytesPerWeight(spec.doubleQuant).toFixed(3)} bytes each), embeddings and head in ${bytes * 8}-bit`);
  if (hardware.kind === "cpu" && n < 50_000_000) notes.push("tiny models on CPU are dominated by per-step overhead; expect the real time to differ");
  return {
    provider: spec.provider,
    model: { dir: resolved.modelDir, architecture: c.architectures?.[0] ?? "?", parameters: n },
    method: spec.method,
    trainableParameters: trainable,
    dataset: { version: resolved.version.id, ref: `${resolved.version.datasetName}@${resolved.version.number}`, records: { ...resolved.splits } },
    data: {
      seqLen: spec.seqLen,
      packing: header.packing, // what was compiled (preference pairs are never packed)
      trainSequences: train.sequences,
      tokensPerEpoch: train.tokens,
      trainedTokensPerEpoch: train.trained_tokens,
      valSequences: val?.sequences ?? 0,
      valTokens: val?.tokens ?? 0,
      truncatedDocuments: header.truncation.examples,
    },
    steps: { epochs: spec.maxSteps ? (steps.totalSteps * spec.gradAccum) / Math.max(1, steps.batchesPerEpoch) : spec.epochs, ...steps, sequencesPerStep, tokensPerStep },
    hardware,
    estimate: {
      flopsPerToken,
      totalFlops,
      seconds,
      memory: { weights, gradients, optimizer, activations, total, available },
      fits: available === null ? null : total <= available,
      notes,
    },
  };
}

/**
 * Activations kept for backward in one micro-batch [B,S]: per layer ≈ (8H + 3I) values per token (norm inputs,
 * q/k/v/o, MLP gate/up/act) plus attention probabilities B·heads·S² (an eager attention; fused kernels keep none).
 * Gradient checkpointing keeps only each layer's input (H per token) and recomputes one layer at a time.
 * Logits: the worker's chunked loss holds one chunk of ≤1024 positions × vocab in fp32, twice (value and grad).
 */
export function activationBytes(c: ModelConfig, batch: number, seqLen: number, bytes: number, checkpointing: boolean | number): number {
  const tokens = batch * seqLen;
  const perLayer = tokens * (8 * c.hidden_size + 3 * c.intermediate_size) * bytes + batch * c.num_attention_heads * seqLen * seqLen * bytes;
  // Checkpointed layers (the first k) keep only their input. They recompute last in backward, when the later
  // layers' activations are already freed: the peak holds the kept layers, or one recomputing layer.
  const recomputed = Math.min(c.num_hidden_layers, checkpointing === true ? c.num_hidden_layers : Number(checkpointing));
  const kept = c.num_hidden_layers - recomputed;
  const layers = recomputed * tokens * c.hidden_size * bytes + Math.max(kept, recomputed > 0 ? 1 : 0) * perLayer;
  const logits = Math.min(tokens, 1024) * c.vocab_size * 4 * 2;
  return layers + logits;
}
