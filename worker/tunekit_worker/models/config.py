"""Parse a Hugging Face `config.json` into the one decoder config our Llama-family implementation needs.

Supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM. They differ only in a few
switches (qkv bias, q/k RMSNorm, sliding window, RoPE scaling), so one dataclass and one decoder cover them.
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


def _unsupported(what: str, value, fix: str) -> WorkerError:
    return WorkerError("WORKER_UNSUPPORTED_ARCHITECTURE", f"unsupported {what}: {value!r}", fix)


def _rope_params(raw: dict):
    """(rope_theta, rope_scaling or None) from either the v4 or the v5 config layout."""
    params = raw.get("rope_parameters")
    scaling = raw.get("rope_scaling")
    theta = raw.get("rope_theta")
    if isinstance(params, dict):
        # v5 nests per-layer-type params for some models ({"full_attention": {...}}); take the full-attention one.
        if "full_attention" in params and isinstance(params["full_attention"], dict):
            params = params["full_attention"]
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
    if arch == "MistralForCausalLM":
        return [int(window)] * n_layers  # Mistral applies its window on every layer whenever it is set
    # Qwen2/Qwen3: explicit layer_types (v5) win; else the window is on from layer max_window_layers when enabled.
    layer_types = raw.get("layer_types")
    if isinstance(layer_types, list) and len(layer_types) == n_layers:
        return [int(window) if t == "sliding_attention" else None for t in layer_types]
    if not raw.get("use_sliding_window", False):
        return [None] * n_layers
    first = int(raw.get("max_window_layers", n_layers))
    return [int(window) if i >= first else None for i in range(n_layers)]


def parse_config(raw: dict) -> ModelConfig:
    archs = raw.get("architectures") or []
    arch = next((a for a in archs if a in SUPPORTED_ARCHITECTURES), None)
    if arch is None:
        raise WorkerError(
            "WORKER_UNSUPPORTED_ARCHITECTURE",
            f"config.json architectures {archs!r} is not supported; supported: {', '.join(SUPPORTED_ARCHITECTURES)}",
            "fine-tune a Llama, Mistral, Qwen2 or Qwen3 model, or use a hosted provider for this model",
        )
    act = raw.get("hidden_act", "silu")
    if act != "silu":
        raise _unsupported("hidden_act", act, "only SwiGLU (hidden_act 'silu') models are supported")
    hidden = int(raw["hidden_size"])
    heads = int(raw["num_attention_heads"])
    kv_heads = int(raw.get("num_key_value_heads") or heads)
    head_dim = raw.get("head_dim") or hidden // heads
    assert heads % kv_heads == 0, f"num_attention_heads {heads} must be a multiple of num_key_value_heads {kv_heads}"
    n_layers = int(raw["num_hidden_layers"])
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
        head_dim=int(head_dim),
        max_position_embeddings=int(raw.get("max_position_embeddings", 2048)),
        rms_norm_eps=float(raw.get("rms_norm_eps", 1e-6)),
        rope_theta=theta,
        rope_scaling=scaling,
        tie_word_embeddings=bool(raw.get("tie_word_embeddings", False)),
        attention_bias=True if arch == "Qwen2ForCausalLM" else (bias and arch != "MistralForCausalLM"),
        o_proj_bias=bias and arch in ("LlamaForCausalLM", "Qwen3ForCausalLM"),
        mlp_bias=bool(raw.get("mlp_bias", False)) and arch == "LlamaForCausalLM",
        qk_norm=arch == "Qwen3ForCausalLM",
        sliding_windows=_sliding_windows(raw, arch, n_layers),
        bos_token_id=raw.get("bos_token_id"),
        eos_token_id=raw.get("eos_token_id"),
        pad_token_id=raw.get("pad_token_id"),
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


def rope_inv_freq(cfg: ModelConfig, seq_len: Optional[int] = None) -> torch.Tensor:
    """RoPE inverse frequencies [head_dim/2] (float32), computed exactly as transformers' rope init functions.

    `seq_len` matters only for "dynamic" (NTK) scaling, whose base grows once a sequence exceeds the original
    context; the decoder calls this per forward with the largest position + 1.
    """
    dim = cfg.head_dim
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
