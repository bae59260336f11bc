"""Parse a Hugging Face `config.json` into the one decoder config our implementation needs.

Supported: Llama, Mistral, Qwen2, Qwen3, Gemma 2, Gemma 3 (text), Phi-3/Phi-4 and Qwen3-MoE. They differ in
switches (qkv bias, q/k RMSNorm, sliding windows, RoPE scaling, Gemma's norms/soft-capping/scaled embeddings,
Phi-3's fused projections, sparse MoE layers), so one dataclass and one decoder cover them (llama.py, attention.py,
norm.py, moe.py).
Both the transformers v4 spelling (`rope_theta` + `rope_scaling`) and the v5 one (`rope_parameters`) are read.
"""

import math
import os
from dataclasses import dataclass, field
from typing import List, Optional

import torch

from ..contract import model_support
from ..errors import WorkerError
from ..json_file import read_json_object

# The one list (contract/model-support.json): TypeScript's spec check reads the same file.
SUPPORTED_ARCHITECTURES = tuple(model_support()["architectures"])
SUPPORTED_ROPE_TYPES = ("default", "linear", "dynamic", "llama3")


@dataclass
class ModelConfig:
    architecture: str
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    max_position_embeddings: int = 2048
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    # {"rope_type": "linear"|"dynamic"|"llama3", "factor": …, …} or None for plain RoPE.
    rope_scaling: Optional[dict] = None
    tie_word_embeddings: bool = False
    attention_bias: bool = False  # bias on q/k/v projections
    o_proj_bias: bool = False     # Llama/Qwen3 `attention_bias` also covers o_proj; Qwen2 never has it
    mlp_bias: bool = False
    qk_norm: bool = False         # Qwen3: RMSNorm over head_dim on q and k before RoPE
    # Per-layer sliding window (None = full causal attention on that layer).
    sliding_windows: List[Optional[int]] = field(default_factory=list)
    bos_token_id: Optional[int] = None
    eos_token_id: Optional[object] = None  # int or list of ints, as in config.json
    pad_token_id: Optional[int] = None
    # Gemma 2/3 (defaults = Llama behaviour)
    hidden_act: str = "silu"                   # "silu" (SwiGLU) or "gelu_pytorch_tanh" (GeGLU)
    norm_plus_one: bool = False                # RMSNorm scales by (1 + weight), weights stored around 0
    sandwich_norms: bool = False               # pre- and post- norms around attention and the MLP (4 per layer)
    embed_scale: Optional[float] = None        # embeddings multiplied by sqrt(hidden), in the embedding dtype
    query_scale: Optional[float] = None        # attention scale (query_pre_attn_scalar ** -0.5); None = D ** -0.5
    attn_logit_softcapping: Optional[float] = None
    final_logit_softcapping: Optional[float] = None
    rope_local_theta: Optional[float] = None   # Gemma 3: RoPE base of the sliding-window layers (no scaling)
    # Phi-3/Phi-4: one qkv_proj and one gate_up_proj (split in forward), and RoPE on part of head_dim
    fused_projections: bool = False
    rotary_dim: Optional[int] = None           # None = head_dim
    # Qwen3-MoE: per-layer sparse MLPs
    num_experts: int = 0
    num_experts_per_tok: int = 0
    moe_intermediate_size: int = 0
    norm_topk_prob: bool = False
    sparse_layers: List[bool] = field(default_factory=list)  # True = that layer's MLP is the expert block


GEMMA = ("Gemma2ForCausalLM", "Gemma3ForCausalLM")
PHI3 = "Phi3ForCausalLM"
QWEN3_MOE = "Qwen3MoeForCausalLM"
SUPPORTED_ACTIVATIONS = ("silu", "gelu_pytorch_tanh")


def _unsupported(what: str, value, fix: str) -> WorkerError:
    return WorkerError("WORKER_UNSUPPORTED_ARCHITECTURE", f"unsupported {what}: {value!r}", fix)


def _local_rope_theta(raw: dict) -> Optional[float]:
    """Gemma 3's RoPE base for sliding-window layers: v4 `rope_local_base_freq`, v5 rope_parameters.sliding_attention."""
    params = raw.get("rope_parameters")
    if isinstance(params, dict) and isinstance(params.get("sliding_attention"), dict):
        local = params["sliding_attention"]
        rope_type = local.get("rope_type", local.get("type", "default"))
        if rope_type != "default":
            raise _unsupported("rope scaling type on sliding-window layers", rope_type,
                               "use a Gemma 3 config whose rope_parameters.sliding_attention is 'default'")
        return float(local.get("rope_theta", 10000.0))
    return float(raw.get("rope_local_base_freq", 10000.0))


def _rope_params(raw: dict):
    """(rope_theta, rope_scaling or None) from either the v4 or the v5 config layout."""
    params = raw.get("rope_parameters")
    scaling = raw.get("rope_scaling")
    theta = raw.get("rope_theta")
    if isinstance(params, dict):
        # v5 nests per-layer-type params for some models ({"full_attention": {...}}); take the full-attention one.
        if "full_attention" in params and isinstance(params["full_attention"], dict):
            params = params["full_attention"]
        elif "sliding_attention" in params and isinstance(params["sliding_attention"], dict):
            params = params["sliding_attention"]  # every layer is a sliding one
        theta = params.get("rope_theta", theta)
        scaling = params
    theta = 10000.0 if theta is None else float(theta)
    if not scaling:
        return theta, None
    scaling = dict(scaling)
    rope_type = scaling.get("rope_type", scaling.get("type", "default"))
    if rope_type == "default":
        return theta, None
    if rope_type not in SUPPORTED_ROPE_TYPES:
        raise _unsupported("rope scaling type", rope_type,
                           f"use a model whose rope_scaling type is one of {', '.join(SUPPORTED_ROPE_TYPES)}")
    scaling["rope_type"] = rope_type
    scaling.pop("type", None)
    scaling.pop("rope_theta", None)
    if "factor" not in scaling:
        raise _unsupported("rope scaling without 'factor'", scaling, "add rope_scaling.factor to config.json")
    return theta, scaling


def _sliding_windows(raw: dict, arch: str, n_layers: int) -> List[Optional[int]]:
    window = raw.get("sliding_window")
    if arch == "LlamaForCausalLM" or not window:
        return [None] * n_layers
    if arch in ("MistralForCausalLM", PHI3):
        return [int(window)] * n_layers  # Mistral and Phi-3 apply their window on every layer whenever it is set
    layer_types = raw.get("layer_types")
    if arch in GEMMA:
        if not (isinstance(layer_types, list) and len(layer_types) == n_layers):
            # Gemma 2: every other layer (0, 2, …) slides; Gemma 3: 5 sliding : 1 global (sliding_window_pattern).
            pattern = 2 if arch == "Gemma2ForCausalLM" else int(raw.get("sliding_window_pattern", 6))
            layer_types = ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(n_layers)]
        return [int(window) if t == "sliding_attention" else None for t in layer_types]
    # Qwen2/Qwen3: explicit layer_types (v5) win; else the window is on from layer max_window_layers when enabled.
    if isinstance(layer_types, list) and len(layer_types) == n_layers:
        return [int(window) if t == "sliding_attention" else None for t in layer_types]
    if not raw.get("use_sliding_window", False):
        return [None] * n_layers
    first = int(raw.get("max_window_layers", n_layers))
    return [int(window) if i >= first else None for i in range(n_layers)]


def _arch_switches(raw: dict, arch: str, head_dim: int, n_layers: int) -> dict:
    """The fields that only Gemma, Phi-3 and Qwen3-MoE set (everything else keeps the Llama defaults)."""
    if arch in GEMMA:
        if raw.get("use_bidirectional_attention"):
            raise _unsupported("Gemma 3 use_bidirectional_attention", True,
                               "use a causal Gemma 3 checkpoint (EmbeddingGemma-style bidirectional models are not "
                               "decoders)")
        scalar = raw.get("query_pre_attn_scalar") or head_dim
        return dict(norm_plus_one=True, sandwich_norms=True, embed_scale=float(raw["hidden_size"]) ** 0.5,
                    query_scale=float(scalar) ** -0.5,
                    # Gemma 3's config carries attn_logit_softcapping but transformers' Gemma3Attention never applies
                    # it (only Gemma 2 does); the parity run on the GPU machine showed the difference.
                    attn_logit_softcapping=raw.get("attn_logit_softcapping") if arch == "Gemma2ForCausalLM" else None,
                    final_logit_softcapping=raw.get("final_logit_softcapping"),
                    rope_local_theta=_local_rope_theta(raw) if arch == "Gemma3ForCausalLM" else None)
    if arch == PHI3:
        factor = float(raw.get("partial_rotary_factor", 1.0))
        return dict(fused_projections=True, rotary_dim=None if factor == 1.0 else int(head_dim * factor))
    if arch == QWEN3_MOE:
        # transformers v5 writes num_experts as num_local_experts (an attribute_map alias); Hub configs say num_experts.
        experts = int(raw.get("num_experts", raw.get("num_local_experts")) or 0)
        step = int(raw.get("decoder_sparse_step", 1))
        dense = set(raw.get("mlp_only_layers") or [])
        # As HF's Qwen3MoeDecoderLayer: sparse unless listed in mlp_only_layers, and only every `step`-th layer.
        sparse = [i not in dense and experts > 0 and (i + 1) % step == 0 for i in range(n_layers)]
        return dict(num_experts=experts, num_experts_per_tok=int(raw["num_experts_per_tok"]) if experts else 0,
                    moe_intermediate_size=int(raw["moe_intermediate_size"]) if experts else 0,
                    norm_topk_prob=bool(raw.get("norm_topk_prob", False)), sparse_layers=sparse)
    return {}


def _check_phi3_rope(raw: dict, arch: str) -> None:
    if arch != PHI3:
        return
    scaling = raw.get("rope_scaling") or raw.get("rope_parameters") or {}
    rope_type = scaling.get("rope_type", scaling.get("type", "default")) if isinstance(scaling, dict) else "default"
    if rope_type in ("longrope", "su"):
        raise _unsupported("Phi-3 rope scaling type", rope_type,
                           "use a Phi-3/Phi-4 checkpoint without long-context RoPE scaling (e.g. Phi-3-mini-4k-instruct "
                           f"or Phi-4); supported rope scaling types: {', '.join(SUPPORTED_ROPE_TYPES)}")


def parse_config(raw: dict) -> ModelConfig:
    archs = raw.get("architectures") or []
    arch = next((a for a in archs if a in SUPPORTED_ARCHITECTURES), None)
    if arch is None:
        raise WorkerError(
            "WORKER_UNSUPPORTED_ARCHITECTURE",
            f"config.json architectures {archs!r} is not supported; supported: {', '.join(SUPPORTED_ARCHITECTURES)}",
            "fine-tune a model of one of these architectures (Llama, Mistral, Qwen2, Qwen3, Gemma 2, Gemma 3 text, "
            "Phi-3/Phi-4, Qwen3-MoE), or use a hosted provider for this model",
        )
    # Gemma configs name it hidden_activation (their hidden_act is a legacy alias).
    act = raw.get("hidden_activation") or raw.get("hidden_act") or ("gelu_pytorch_tanh" if arch in GEMMA else "silu")
    if act not in SUPPORTED_ACTIVATIONS:
        raise _unsupported("hidden_act", act, f"only {', '.join(SUPPORTED_ACTIVATIONS)} MLPs are supported")
    hidden = int(raw["hidden_size"])
    heads = int(raw["num_attention_heads"])
    kv_heads = int(raw.get("num_key_value_heads") or heads)
    head_dim = int(raw.get("head_dim") or hidden // heads)
    assert heads % kv_heads == 0, f"num_attention_heads {heads} must be a multiple of num_key_value_heads {kv_heads}"
    n_layers = int(raw["num_hidden_layers"])
    _check_phi3_rope(raw, arch)
    theta, scaling = _rope_params(raw)
    bias = bool(raw.get("attention_bias", False))
    return ModelConfig(
        architecture=arch,
        vocab_size=int(raw["vocab_size"]),
        hidden_size=hidden,
        intermediate_size=int(raw["intermediate_size"]),
        num_hidden_layers=n_layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=head_dim,
        max_position_embeddings=int(raw.get("max_position_embeddings", 2048)),
        rms_norm_eps=float(raw.get("rms_norm_eps", 1e-6)),
        rope_theta=theta,
        rope_scaling=scaling,
        tie_word_embeddings=bool(raw.get("tie_word_embeddings", arch in GEMMA)),  # Gemma ties by default
        attention_bias=True if arch == "Qwen2ForCausalLM" else (bias and arch not in ("MistralForCausalLM", PHI3)),
        o_proj_bias=bias and arch in ("LlamaForCausalLM", "Qwen3ForCausalLM", QWEN3_MOE) + GEMMA,
        mlp_bias=bool(raw.get("mlp_bias", False)) and arch == "LlamaForCausalLM",
        qk_norm=arch in ("Qwen3ForCausalLM", QWEN3_MOE, "Gemma3ForCausalLM"),
        sliding_windows=_sliding_windows(raw, arch, n_layers),
        bos_token_id=raw.get("bos_token_id"),
        eos_token_id=raw.get("eos_token_id"),
        pad_token_id=raw.get("pad_token_id"),
        hidden_act=act,
        **_arch_switches(raw, arch, head_dim, n_layers),
    )


def load_config(model_dir: str) -> ModelConfig:
    path = os.path.join(model_dir, "config.json")
    raw = read_json_object(path, ("WORKER_MODEL_NOT_FOUND", f"no config.json in {model_dir}",
                                   "point model_dir at a Hugging Face model folder (config.json + *.safetensors)"),
                           ("WORKER_INVALID_CONFIG", "fix or re-download config.json"))
    try:
        return parse_config(raw)
    except KeyError as e:
        raise WorkerError("WORKER_INVALID_CONFIG", f"{path} lacks the required field {e}",
                          "re-download config.json from the model's repository") from None


def rope_inv_freq(cfg: ModelConfig, seq_len: Optional[int] = None, local: bool = False) -> torch.Tensor:
    """RoPE inverse frequencies [rotary_dim/2] (float32), computed exactly as transformers' rope init functions.

    `seq_len` matters only for "dynamic" (NTK) scaling, whose base grows once a sequence exceeds the original
    context; the decoder calls this per forward with the largest position + 1. `local`: Gemma 3's sliding-window
    layers (their own base, never scaled).
    """
    dim = cfg.rotary_dim or cfg.head_dim
    if local:
        assert cfg.rope_local_theta is not None, "local RoPE requested for a model without rope_local_theta"
        return 1.0 / (cfg.rope_local_theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    base = cfg.rope_theta
    sc = cfg.rope_scaling or {}
    rope_type = sc.get("rope_type", "default")
    if rope_type == "dynamic":
        original = sc.get("original_max_position_embeddings") or cfg.max_position_embeddings
        if seq_len is not None and seq_len > original:
            factor = sc["factor"]
            base = base * ((factor * seq_len / original) - (factor - 1)) ** (dim / (dim - 2))
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    if rope_type == "linear":
        return inv_freq / sc["factor"]
    if rope_type != "llama3":
        return inv_freq
    factor = sc["factor"]
    low_freq_factor = sc.get("low_freq_factor", 1.0)
    high_freq_factor = sc.get("high_freq_factor", 4.0)
    old_context_len = sc.get("original_max_position_embeddings", 8192)
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    # Long wavelengths are slowed by `factor`, short ones kept, the band between interpolated smoothly.
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed = (1 - smooth) * inv_freq_llama / factor + smooth * inv_freq_llama
    is_medium = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium, smoothed, inv_freq_llama)
