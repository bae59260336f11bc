"""The decoder (Llama, Mistral, Qwen2, Qwen3, Gemma 2/3, Phi-3/4, Qwen3-MoE), numerically following transformers.

The architectures differ by switches on ModelConfig (models/config.py): Gemma's (1 + w) norms, four norms per
layer, GeGLU, scaled embeddings, query scale, logit soft-capping and local RoPE on its sliding layers; Phi-3's
fused qkv_proj / gate_up_proj and partial RoPE; Qwen3-MoE's expert blocks (models/moe.py).

Module names mirror HF's so `state_dict()` keys are the checkpoint keys (`model.layers.0.self_attn.q_proj.weight`…).
`CausalLM.forward` returns the final-norm hidden states [B,T,H]; `CausalLM.logits(hidden)` applies the LM head,
so the trainer can compute the loss in chunks without materialising [B,T,V] logits at once.

Here: the MLPs, the decoder layer and CausalLM. Attention, RoPE application and the masks are in attention.py, the
norms in norm.py, checkpoint loading (load_model) in loading.py; their names are re-exported from this module.
"""

from typing import Dict, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from .attention import (Attention, attention, build_attention_mask, grouped_attention, positions_from_segments,
                        repeat_kv, single_segment_rows)
from .config import ModelConfig, rope_inv_freq
from .fused import geglu, swiglu
from .kv_cache import KVCache, StaticKVCache
from .loading import config_name, load_model
from .moe import SparseMoeBlock
from .norm import GemmaRMSNorm, RMSNorm, make_norm

__all__ = [
    "MLP", "GegluMLP", "make_mlp", "DecoderLayer", "DecoderModel", "CausalLM", "init_weights",
    # Moved out of this module, still importable from it (code and scripts outside the package import them here).
    "Attention", "attention", "build_attention_mask", "grouped_attention", "positions_from_segments", "repeat_kv",
    "single_segment_rows", "GemmaRMSNorm", "RMSNorm", "make_norm", "config_name", "load_model",
]


class MLP(nn.Module):
    _swiglu_fn = staticmethod(swiglu)

    def __init__(self, cfg: ModelConfig, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype, "bias": cfg.mlp_bias}
        self.fused = cfg.fused_projections
        if self.fused:  # Phi-3: gate and up in one projection (gate first), split in forward
            self.gate_up_proj = nn.Linear(cfg.hidden_size, 2 * cfg.intermediate_size, **kw)
        else:
            self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, **kw)
            self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, **kw)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, **kw)

    def forward(self, x):
        if self.fused:
            gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
            return self.down_proj(self._swiglu_fn(gate, up))
        return self.down_proj(self._swiglu_fn(self.gate_proj(x), self.up_proj(x)))


class GegluMLP(MLP):
    """Gemma: gelu_pytorch_tanh instead of SiLU (a class of its own so fused_pieces compiles the right piece)."""
    _swiglu_fn = staticmethod(geglu)


def make_mlp(cfg: ModelConfig, layer_idx: int, device=None, dtype=None) -> nn.Module:
    if cfg.sparse_layers and cfg.sparse_layers[layer_idx]:
        return SparseMoeBlock(cfg, device, dtype)
    return (GegluMLP if cfg.hidden_act == "gelu_pytorch_tanh" else MLP)(cfg, device, dtype)


class DecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig, layer_idx: int, device=None, dtype=None):
        super().__init__()
        self.self_attn = Attention(cfg, layer_idx, device, dtype)
        self.mlp = make_mlp(cfg, layer_idx, device, dtype)
        self.input_layernorm = make_norm(cfg, cfg.hidden_size, device, dtype)
        self.post_attention_layernorm = make_norm(cfg, cfg.hidden_size, device, dtype)
        self.sandwich = cfg.sandwich_norms
        if self.sandwich:  # Gemma 2/3: post_attention_layernorm normalises the attention output instead
            self.pre_feedforward_layernorm = make_norm(cfg, cfg.hidden_size, device, dtype)
            self.post_feedforward_layernorm = make_norm(cfg, cfg.hidden_size, device, dtype)
        self.sliding_window = cfg.sliding_windows[layer_idx] if cfg.sliding_windows else None
        # Gemma 3's sliding layers rotate with their own RoPE base (CausalLM passes those cos/sin).
        self.local_rope = self.sliding_window is not None and cfg.rope_local_theta is not None

    def forward(self, h, cos, sin, mask, kv_cache=None):
        if self.sandwich:
            h = h + self.post_attention_layernorm(self.self_attn(self.input_layernorm(h), cos, sin, mask, kv_cache))
            return h + self.post_feedforward_layernorm(self.mlp(self.pre_feedforward_layernorm(h)))
        h = h + self.self_attn(self.input_layernorm(h), cos, sin, mask, kv_cache)
        return h + self.mlp(self.post_attention_layernorm(h))


class DecoderModel(nn.Module):
    """Container named `model` in HF checkpoints: embed_tokens, layers, norm."""

    def __init__(self, cfg: ModelConfig, device=None, dtype=None):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size, device=device, dtype=dtype)
        self.layers = nn.ModuleList(DecoderLayer(cfg, i, device, dtype) for i in range(cfg.num_hidden_layers))
        self.norm = make_norm(cfg, cfg.hidden_size, device, dtype)


class CausalLM(nn.Module):
    def __init__(self, cfg: ModelConfig, device=None, dtype=None, tied: Optional[bool] = None):
        super().__init__()
        self.config = cfg
        self.tied = cfg.tie_word_embeddings if tied is None else tied
        self.model = DecoderModel(cfg, device, dtype)
        # Tied: no lm_head module at all, so state_dict has no lm_head.weight (as tied HF checkpoints).
        self.lm_head = None if self.tied else nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False,
                                                        device=device, dtype=dtype)
        # False, True (every layer) or an int k: only the first k layers recompute their forward in backward
        # (selective checkpointing: trade just enough recompute for memory, e.g. an 8B LoRA step in 32 GiB).
        self.gradient_checkpointing = False
        self._inv_freq: Dict[str, torch.Tensor] = {}  # plain float32 cache, not a buffer: model.to(bf16) must not round it

    def _rope(self, position_ids: torch.Tensor, dtype: torch.dtype, local: bool = False):
        """cos/sin [B,1,T,D] in the activation dtype, computed in float32 like HF (local: Gemma 3's sliding
        layers' base)."""
        dyn = (self.config.rope_scaling or {}).get("rope_type") == "dynamic" and not local
        if dyn:
            inv = rope_inv_freq(self.config, int(position_ids.max()) + 1).to(position_ids.device)
        else:
            key = f"{position_ids.device}/{local}"
            if key not in self._inv_freq:
                self._inv_freq[key] = rope_inv_freq(self.config, local=local).to(position_ids.device)
            inv = self._inv_freq[key]
        freqs = position_ids.float()[:, :, None] * inv[None, None, :]  # [B,T,D/2]
        emb = torch.cat((freqs, freqs), dim=-1)[:, None]                # [B,1,T,D]
        return emb.cos().to(dtype), emb.sin().to(dtype)

    def forward(self, input_ids: torch.Tensor, position_ids: Optional[torch.Tensor] = None,
                segment_ids: Optional[torch.Tensor] = None,
                kv_cache: Optional[Union[KVCache, StaticKVCache]] = None) -> torch.Tensor:
        """input_ids [B,T] -> final-norm hidden states [B,T,H].

        segment_ids [B,T]: block-diagonal causal attention (docs/shard-format.md); 0 = padding. With a kv_cache the
        segments of earlier calls are remembered, so left padding (segment 0) stays masked while decoding.
        position_ids default: continuing the cache, else restarting per segment, else 0..T-1.
        With a StaticKVCache nothing here reads a tensor back to the host (but "dynamic" RoPE, see _rope), so a
        decode step can be captured in a CUDA graph (models/decode_step.py).
        """
        B, T = input_ids.shape
        past = kv_cache.length if kv_cache is not None else 0  # int, or a [1] device tensor (StaticKVCache)
        if position_ids is None:
            if segment_ids is not None and isinstance(past, int) and past == 0:
                position_ids = positions_from_segments(segment_ids)
            else:
                position_ids = (torch.arange(T, device=input_ids.device) + past).expand(B, T)
        h = self.model.embed_tokens(input_ids)  # [B,T,H]
        if self.config.embed_scale is not None:
            # Gemma: times sqrt(hidden) rounded to the embedding dtype first, as HF (a Python float: no device sync).
            h = h * float(torch.tensor(self.config.embed_scale, dtype=h.dtype))
        ropes = {False: self._rope(position_ids, h.dtype)}
        if self.config.rope_local_theta is not None:
            ropes[True] = self._rope(position_ids, h.dtype, local=True)
        masks: Dict[Optional[int], Optional[torch.Tensor]] = {}
        windows = {layer.sliding_window for layer in self.model.layers}
        if kv_cache is None and windows == {None} and (segment_ids is None or single_segment_rows(segment_ids)):
            masks[None] = None  # plain causal: lets SDPA use its fused causal (flash) kernels
        else:
            q_seg = segment_ids if segment_ids is not None else torch.ones_like(input_ids)
            k_seg = kv_cache.append_segments(q_seg) if kv_cache is not None else q_seg  # [B,S]
            for w in windows:
                masks[w] = build_attention_mask(q_seg, k_seg, past, w)
        ckpt_layers = 0
        if self.training and torch.is_grad_enabled() and kv_cache is None:
            gc = self.gradient_checkpointing
            ckpt_layers = len(self.model.layers) if gc is True else int(gc or 0)
        for i, layer in enumerate(self.model.layers):
            mask = masks[layer.sliding_window] if layer.sliding_window in masks else masks[None]
            cos, sin = ropes[layer.local_rope]
            if i < ckpt_layers:
                h = checkpoint(layer, h, cos, sin, mask, use_reentrant=False)
            else:
                h = layer(h, cos, sin, mask, kv_cache)
        if kv_cache is not None:
            kv_cache.advance(T)
        return self.model.norm(h)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """hidden [B,T,H] -> float32 logits [B,T,V] (computed in the weight dtype, then upcast, as HF)."""
        weight = self.model.embed_tokens.weight if self.lm_head is None else self.lm_head.weight
        logits = F.linear(hidden, weight).float()
        cap = self.config.final_logit_softcapping
        # Gemma 2: logits squashed into (-cap, cap) (in float32 here; HF caps in the weight dtype, within bf16 noise).
        return logits if cap is None else torch.tanh(logits / cap) * cap


def init_weights(model: CausalLM, std: float = 0.02, generator: Optional[torch.Generator] = None) -> None:
    """HF-style random init (normal(0, std) for linears and embeddings, zero biases, ones for norms), for tests."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                module.weight.normal_(0.0, std, generator=generator)
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()
            elif isinstance(module, RMSNorm):
                module.weight.fill_(0.0 if isinstance(module, GemmaRMSNorm) else 1.0)  # both: identity scale
            elif isinstance(module, SparseMoeBlock):
                for p in module.experts.parameters():
                    p.normal_(0.0, std, generator=generator)
