"""Tiny random Llama-family models written as real HF folders (config.json + model.safetensors) for tests."""

import json
import os

import torch

from tunekit_worker.models.config import parse_config
from tunekit_worker.models.llama import CausalLM, init_weights
from tunekit_worker.safetensors_io import save_checkpoint

STORIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "fixtures", "models",
                       "stories260k")
STORIES = os.path.normpath(STORIES)
STORIES_MISSING = f"fixture {STORIES} is absent (it lives in ../shared/fixtures next to the repo)"

BASE = {"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 64, "max_position_embeddings": 128, "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": False}
ARCH = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM",
        "qwen3": "Qwen3ForCausalLM"}


def tiny_config(arch: str, **overrides) -> dict:
    raw = dict(BASE, architectures=[ARCH[arch]], model_type=arch)
    if arch == "qwen3":
        raw["head_dim"] = 16  # Qwen3's head_dim is explicit and differs from hidden/heads (8)
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
    save_checkpoint(dict(model.state_dict()), str(path))
    return str(path)
