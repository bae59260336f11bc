"""The Llama-family decoder (Llama, Mistral, Qwen2, Qwen3), numerically following transformers' modeling code.

Module names mirror HF's so `state_dict()` keys are the checkpoint keys (`model.layers.0.self_attn.q_proj.weight`…).
`CausalLM.forward` returns the final-norm hidden states [B,T,H]; `CausalLM.logits(hidden)` applies the LM head,
so the trainer can compute the loss in chunks without materialising [B,T,V] logits at once.
"""

import math
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from .config import ModelConfig, rope_inv_freq
from .fused import rms_norm, rope, swiglu
from .kv_cache import KVCache, StaticKVCache

_HAS_SDPA = hasattr(F, "scaled_dot_product_attention")  # torch >= 2.0
# torch >= 2.5: SDPA takes grouped K/V itself (enable_gqa), so [B,Hkv,S,D] is not copied to [B,Hq,S,D].
_SDPA_GQA = _HAS_SDPA and tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 5)


class RMSNorm(nn.Module):
    _norm_fn = staticmethod(rms_norm)  # decoding may shadow it with a compiled one (models/fused.py)

    def __init__(self, dim: int, eps: float, device=None, dtype=None):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim, device=device, dtype=dtype))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._norm_fn(x, self.weight, self.eps)


def positions_from_segments(segment_ids: torch.Tensor) -> torch.Tensor:
    """Position ids [B,T] restarting at 0 at each segment start (padding, segment 0, gets position 0)."""
    B, T = segment_ids.shape
    idx = torch.arange(T, device=segment_ids.device).expand(B, T)
    is_start = torch.ones_like(segment_ids, dtype=torch.bool)
    is_start[:, 1:] = segment_ids[:, 1:] != segment_ids[:, :-1]
    run_start = torch.cummax(torch.where(is_start, idx, torch.zeros_like(idx)), dim=1).values
    return (idx - run_start) * (segment_ids != 0)


def build_attention_mask(q_segments: torch.Tensor, k_segments: torch.Tensor, past: Union[int, torch.Tensor],
                         window: Optional[int] = None) -> torch.Tensor:
    """Boolean mask [B,1,T,S], True = may attend. Query t (cache index past+t) sees key s iff s <= past+t, same
    nonzero segment and (with a sliding window) past+t - s < window. Every query also sees itself, so padding
    rows are never fully masked (a fully masked softmax row is NaN, even in the backward pass).
    `past` is an int, or a [1] tensor (StaticKVCache): then the mask is built on the device without a host sync;
    or a [B,1] tensor of per-row lengths (SlotKVCache: every row of a serving batch is at its own position)."""
    T, S = q_segments.shape[1], k_segments.shape[1]
    offsets = torch.arange(T, device=q_segments.device)
    if isinstance(past, torch.Tensor) and past.dim() == 2:
        q_idx = (past + offsets)[:, :, None]                               # [B,T,1]
    else:
        q_idx = (offsets + past)[None, :, None]                            # [1,T,1]
    k_idx = torch.arange(S, device=q_segments.device)[None, None, :]       # [1,1,S]
    allowed = k_idx <= q_idx
    if window is not None:
        allowed = allowed & (q_idx - k_idx < window)
    same = (q_segments[:, :, None] == k_segments[:, None, :]) & (q_segments[:, :, None] != 0)  # [B,T,S]
    return ((allowed & same) | (k_idx == q_idx)).unsqueeze(1)


def single_segment_rows(segment_ids: torch.Tensor) -> bool:
    """True when every row is one segment followed only by padding ([s s … s 0 0], s != 0).

    Then block-diagonal causal attention equals plain causal attention for every real token (trailing padding
    sees earlier tokens but nothing reads the padding's outputs), so the fused causal kernels (flash) can run
    without a mask. One host sync per forward."""
    if segment_ids.shape[1] < 2:
        return bool((segment_ids[:, 0] != 0).all())
    cont = (segment_ids[:, 1:] == segment_ids[:, :-1]) | (segment_ids[:, 1:] == 0)
    return bool(cont.all() & (segment_ids[:, 0] != 0).all())


def repeat_kv(x: torch.Tensor, groups: int) -> torch.Tensor:
    """[B,Hkv,S,D] -> [B,Hkv*groups,S,D]: each kv head serves `groups` consecutive query heads (HF repeat_kv)."""
    if groups == 1:
        return x
    B, n_kv, S, D = x.shape
    return x[:, :, None].expand(B, n_kv, groups, S, D).reshape(B, n_kv * groups, S, D)


def attention(q, k, v, mask: Optional[torch.Tensor]) -> torch.Tensor:
    """q [B,Hq,T,D], k/v [B,Hkv,S,D] (Hkv divides Hq: GQA), mask [B,1,T,S] bool or None (= causal, T == S)."""
    groups = q.shape[1] // k.shape[1]
    if _SDPA_GQA and mask is None:
        # Causal without a mask: the flash kernel, with native GQA (no K/V copies), as HF's sdpa path.
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=groups > 1)
    k, v = repeat_kv(k, groups), repeat_kv(v, groups)
    if _HAS_SDPA:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None)
    # torch 1.x: HF's eager attention (float32 softmax, cast back).
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))  # [B,H,T,S]
    if mask is None:
        T, S = q.shape[-2], k.shape[-2]
        mask = torch.ones(T, S, dtype=torch.bool, device=q.device).tril(S - T)
    scores = scores.masked_fill(~mask, float("-inf"))
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
    return torch.matmul(probs, v)


def grouped_attention(q, k, v, mask: torch.Tensor) -> torch.Tensor:
    """attention() against a KV cache: q [B,Hq,T,D], k/v [B,Hkv,S,D], mask [B,1,T,S] bool -> [B,Hq,T,D].

    The G = Hq/Hkv query heads of each kv head are folded into the query length ([B,Hkv,G*T,D]), so the cache is
    read as it is: repeat_kv would copy the whole cache G times per layer at every decode step (for an 8B model at
    batch 64, more bytes than the weights)."""
    B, Hq, T, D = q.shape
    Hkv, S = k.shape[1], k.shape[2]
    G = Hq // Hkv
    if G == 1:
        return attention(q, k, v, mask)
    q = q.reshape(B, Hkv, G * T, D)  # query head h = kv*G + g (as repeat_kv) -> row g*T + t
    mask = mask[:, :, None].expand(B, 1, G, T, S).reshape(B, 1, G * T, S)
    return attention(q, k, v, mask).reshape(B, Hq, T, D)


class Attention(nn.Module):
    _rope_fn = staticmethod(rope)

    def __init__(self, cfg: ModelConfig, layer_idx: int, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.layer_idx = layer_idx
        self.n_heads, self.n_kv, self.head_dim = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        H, D = cfg.hidden_size, cfg.head_dim
        self.q_proj = nn.Linear(H, self.n_heads * D, bias=cfg.attention_bias, **kw)
        self.k_proj = nn.Linear(H, self.n_kv * D, bias=cfg.attention_bias, **kw)
        self.v_proj = nn.Linear(H, self.n_kv * D, bias=cfg.attention_bias, **kw)
        self.o_proj = nn.Linear(self.n_heads * D, H, bias=cfg.o_proj_bias, **kw)
        if cfg.qk_norm:
            self.q_norm = RMSNorm(D, cfg.rms_norm_eps, **kw)
            self.k_norm = RMSNorm(D, cfg.rms_norm_eps, **kw)
        self.qk_norm = cfg.qk_norm

    def forward(self, x, cos, sin, mask, kv_cache: Optional[Union[KVCache, StaticKVCache]] = None):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.n_heads, self.head_dim)   # [B,T,Hq,D]
        k = self.k_proj(x).view(B, T, self.n_kv, self.head_dim)      # [B,T,Hkv,D]
        v = self.v_proj(x).view(B, T, self.n_kv, self.head_dim)
        if self.qk_norm:  # Qwen3: per-head RMSNorm before RoPE
            q, k = self.q_norm(q), self.k_norm(k)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # [B,heads,T,D]
        q, k = self._rope_fn(q, cos, sin), self._rope_fn(k, cos, sin)
        if kv_cache is not None:
            k, v = kv_cache.update(self.layer_idx, k, v)  # [B,Hkv,S,D]: S = past + T, or the static cache's slots
            out = grouped_attention(q, k, v, mask)         # [B,Hq,T,D]
        else:
            out = attention(q, k, v, mask)
        return self.o_proj(out.transpose(1, 2).reshape(B, T, self.n_heads * self.head_dim))


class MLP(nn.Module):
    _swiglu_fn = staticmethod(swiglu)

    def __init__(self, cfg: ModelConfig, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype, "bias": cfg.mlp_bias}
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, **kw)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, **kw)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, **kw)

    def forward(self, x):
        return self.down_proj(self._swiglu_fn(self.gate_proj(x), self.up_proj(x)))


class DecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig, layer_idx: int, device=None, dtype=None):
        super().__init__()
        self.self_attn = Attention(cfg, layer_idx, device, dtype)
        self.mlp = MLP(cfg, device, dtype)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, device, dtype)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, device, dtype)
        self.sliding_window = cfg.sliding_windows[layer_idx] if cfg.sliding_windows else None

    def forward(self, h, cos, sin, mask, kv_cache=None):
        h = h + self.self_attn(self.input_layernorm(h), cos, sin, mask, kv_cache)
        return h + self.mlp(self.post_attention_layernorm(h))


class DecoderModel(nn.Module):
    """Container named `model` in HF checkpoints: embed_tokens, layers, norm."""

    def __init__(self, cfg: ModelConfig, device=None, dtype=None):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size, device=device, dtype=dtype)
        self.layers = nn.ModuleList(DecoderLayer(cfg, i, device, dtype) for i in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, device, dtype)


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

    def _rope(self, position_ids: torch.Tensor, dtype: torch.dtype):
        """cos/sin [B,1,T,D] in the activation dtype, computed in float32 like HF."""
        dyn = (self.config.rope_scaling or {}).get("rope_type") == "dynamic"
        if dyn:
            inv = rope_inv_freq(self.config, int(position_ids.max()) + 1).to(position_ids.device)
        else:
            key = str(position_ids.device)
            if key not in self._inv_freq:
                self._inv_freq[key] = rope_inv_freq(self.config).to(position_ids.device)
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
        cos, sin = self._rope(position_ids, h.dtype)
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
        return F.linear(hidden, weight).float()


def init_weights(model: CausalLM, std: float = 0.02, generator: Optional[torch.Generator] = None) -> None:
    """HF-style random init (normal(0, std) for linears and embeddings, zero biases, ones for norms), for tests."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                module.weight.normal_(0.0, std, generator=generator)
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()
            elif isinstance(module, RMSNorm):
                module.weight.fill_(1.0)


def _mismatch_error(model_dir: str, missing: List[str], unexpected: List[str], shapes: List[str]):
    from ..errors import WorkerError

    def show(names):
        return ", ".join(names[:8]) + (f" … ({len(names)} total)" if len(names) > 8 else "")

    parts = []
    if missing:
        parts.append(f"missing keys: {show(missing)}")
    if unexpected:
        parts.append(f"unexpected keys: {show(unexpected)}")
    if shapes:
        parts.append(f"shape mismatches: {show(shapes)}")
    return WorkerError(
        "WORKER_CHECKPOINT_MISMATCH",
        f"the weights in {model_dir} do not match its config.json ({config_name(model_dir)}): " + "; ".join(parts),
        "make sure config.json belongs to these weights (same architecture and sizes) and that the checkpoint "
        "is a plain Hugging Face causal LM (not quantized, not an adapter folder)",
    )


def config_name(model_dir: str) -> str:
    import os
    return os.path.join(model_dir, "config.json")


def load_model(model_dir: str, device="cpu", dtype: torch.dtype = torch.float32) -> CausalLM:
    """Build the model from config.json and load its safetensors (single or sharded) with strict key matching.

    The model is first built on the meta device (no memory, no random init), then materialised on `device`, and
    each tensor is copied from the memory-mapped file, so peak memory is about one model in `dtype`.
    """
    from .config import load_config
    from ..safetensors_io import list_checkpoint_files, load_file

    cfg = load_config(model_dir)
    files = list_checkpoint_files(model_dir)
    # A checkpoint without lm_head.weight shares the embedding (also when config.json forgot to say so).
    tied = cfg.tie_word_embeddings or "lm_head.weight" not in files
    model = CausalLM(cfg, device="meta", dtype=dtype, tied=tied)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    # Ignored: the tied duplicate, and RoPE frequency buffers that some old checkpoints saved.
    ignored = {k for k in files if k.endswith("rotary_emb.inv_freq") or (tied and k == "lm_head.weight")}
    missing = sorted(set(expected) - set(files))
    unexpected = sorted(set(files) - set(expected) - ignored)
    if missing or unexpected:
        raise _mismatch_error(model_dir, missing, unexpected, [])
    model = model.to_empty(device=device)
    by_file: Dict[str, List[str]] = {}
    for name in expected:
        by_file.setdefault(files[name], []).append(name)
    params = dict(model.named_parameters())
    shapes = []
    with torch.no_grad():
        for path, names in sorted(by_file.items()):
            for name, tensor in load_file(path, names).items():
                if tuple(tensor.shape) != expected[name]:
                    shapes.append(f"{name} {list(tensor.shape)} != {list(expected[name])}")
                    continue
                params[name].copy_(tensor)  # converts dtype and moves to device
    if shapes:
        raise _mismatch_error(model_dir, [], [], shapes)
    model._inv_freq = {}
    return model.eval()
