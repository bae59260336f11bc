"""Tiny random Llama-family models written as real HF folders (config.json + model.safetensors) for tests."""

import json
import os

import torch

from tunekit_worker.models.config import parse_config
from tunekit_worker.models.llama import CausalLM, init_weights
from tunekit_worker.models.moe import to_checkpoint_layout
from tunekit_worker.safetensors_io import save_checkpoint

STORIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "fixtures", "models",
                       "stories260k")
STORIES = os.path.normpath(STORIES)
STORIES_MISSING = f"fixture {STORIES} is absent (it lives in ../shared/fixtures next to the repo)"

BASE = {"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 64, "max_position_embeddings": 128, "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": False}
ARCH = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM",
        "qwen3": "Qwen3ForCausalLM", "gemma2": "Gemma2ForCausalLM", "gemma3_text": "Gemma3ForCausalLM",
        "phi3": "Phi3ForCausalLM", "qwen3_moe": "Qwen3MoeForCausalLM"}
# What each new family adds on top of BASE, with the features switched on that tests must exercise.
EXTRA = {
    "qwen3": {"head_dim": 16},  # Qwen3's head_dim is explicit and differs from hidden/heads (8)
    "gemma2": {"head_dim": 16, "hidden_activation": "gelu_pytorch_tanh", "query_pre_attn_scalar": 12,
               "attn_logit_softcapping": 5.0, "final_logit_softcapping": 3.0, "sliding_window": 3,
               "tie_word_embeddings": True},
    "gemma3_text": {"head_dim": 16, "hidden_activation": "gelu_pytorch_tanh", "query_pre_attn_scalar": 16,
                    "sliding_window": 3, "sliding_window_pattern": 2, "rope_theta": 1e6, "rope_local_base_freq": 10.0,
                    "tie_word_embeddings": True, "num_hidden_layers": 3},
    "phi3": {"partial_rotary_factor": 0.5},
    "qwen3_moe": {"head_dim": 16, "num_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 24,
                  "norm_topk_prob": True, "decoder_sparse_step": 1, "mlp_only_layers": [1]},
}


def tiny_config(arch: str, **overrides) -> dict:
    raw = dict(BASE, architectures=[ARCH[arch]], model_type=arch)
    raw.update(EXTRA.get(arch, {}))
    raw.update(overrides)
    return raw


def write_tiny_model(path, arch: str, seed: int = 0, **overrides) -> str:
    """Random model (std 0.2 so logits vary visibly, random biases and norm weights) saved as an HF folder."""
    raw = tiny_config(arch, **overrides)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(raw, f)
    model = CausalLM(parse_config(raw))
    g = torch.Generator().manual_seed(seed)
    init_weights(model, std=0.2, generator=g)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "norm" in name:
                p.copy_(p + 0.1 * torch.randn(p.shape, generator=g))
    save_checkpoint(to_checkpoint_layout(dict(model.state_dict())), str(path))  # MoE experts: the Hub layout
    return str(path)
