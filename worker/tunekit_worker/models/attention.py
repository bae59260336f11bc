"""Attention for the decoder (models/llama.py): the Attention module (q/k/v projections, Phi-3's fused qkv_proj,
q/k norms, full or partial RoPE, a KV cache), the SDPA / eager kernels with Gemma's query scale and soft-capping,
and the masks: block-diagonal causal over packed segments, with an optional sliding window.
"""

import math
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .fused import rope
from .kv_cache import KVCache, StaticKVCache
from .norm import make_norm

_HAS_SDPA = hasattr(F, "scaled_dot_product_attention")  # torch >= 2.0
# torch >= 2.5: SDPA takes grouped K/V itself (enable_gqa), so [B,Hkv,S,D] is not copied to [B,Hq,S,D].
_SDPA_GQA = _HAS_SDPA and tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 5)
_SDPA_SCALE = _HAS_SDPA and tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 1)  # `scale=` kwarg


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


def attention(q, k, v, mask: Optional[torch.Tensor], scale: Optional[float] = None,
              softcap: Optional[float] = None) -> torch.Tensor:
    """q [B,Hq,T,D], k/v [B,Hkv,S,D] (Hkv divides Hq: GQA), mask [B,1,T,S] bool or None (= causal, T == S).

    scale: None = 1/sqrt(D) (Gemma: query_pre_attn_scalar ** -0.5). softcap: Gemma 2's tanh soft-capping of the
    scores, which no fused kernel (SDPA, flash) applies, so those layers always take the eager path below."""
    groups = q.shape[1] // k.shape[1]
    fused_ok = _HAS_SDPA and softcap is None and (scale is None or _SDPA_SCALE)
    extra = {} if scale is None else {"scale": scale}
    if fused_ok and _SDPA_GQA and mask is None:
        # Causal without a mask: the flash kernel, with native GQA (no K/V copies), as HF's sdpa path.
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=groups > 1, **extra)
    k, v = repeat_kv(k, groups), repeat_kv(v, groups)
    if fused_ok:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None, **extra)
    # HF's eager attention (torch 1.x, soft-capping): scale, cap, mask, float32 softmax, cast back.
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if softcap is not None:
        scores = torch.tanh(scores / softcap) * softcap  # [B,H,T,S]
    if mask is None:
        T, S = q.shape[-2], k.shape[-2]
        mask = torch.ones(T, S, dtype=torch.bool, device=q.device).tril(S - T)
    scores = scores.masked_fill(~mask, float("-inf"))
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
    return torch.matmul(probs, v)


def grouped_attention(q, k, v, mask: torch.Tensor, scale: Optional[float] = None,
                      softcap: Optional[float] = None) -> torch.Tensor:
    """attention() against a KV cache: q [B,Hq,T,D], k/v [B,Hkv,S,D], mask [B,1,T,S] bool -> [B,Hq,T,D].

    The G = Hq/Hkv query heads of each kv head are folded into the query length ([B,Hkv,G*T,D]), so the cache is
    read as it is: repeat_kv would copy the whole cache G times per layer at every decode step (for an 8B model at
    batch 64, more bytes than the weights)."""
    B, Hq, T, D = q.shape
    Hkv, S = k.shape[1], k.shape[2]
    G = Hq // Hkv
    if G == 1:
        return attention(q, k, v, mask, scale, softcap)
    q = q.reshape(B, Hkv, G * T, D)  # query head h = kv*G + g (as repeat_kv) -> row g*T + t
    mask = mask[:, :, None].expand(B, 1, G, T, S).reshape(B, 1, G * T, S)
    return attention(q, k, v, mask, scale, softcap).reshape(B, Hq, T, D)


class Attention(nn.Module):
    _rope_fn = staticmethod(rope)

    def __init__(self, cfg: ModelConfig, layer_idx: int, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.layer_idx = layer_idx
        self.n_heads, self.n_kv, self.head_dim = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        H, D = cfg.hidden_size, cfg.head_dim
        self.fused = cfg.fused_projections
        if self.fused:  # Phi-3: one projection, split in forward (HF and PEFT name it qkv_proj)
            self.qkv_proj = nn.Linear(H, (self.n_heads + 2 * self.n_kv) * D, bias=cfg.attention_bias, **kw)
        else:
            self.q_proj = nn.Linear(H, self.n_heads * D, bias=cfg.attention_bias, **kw)
            self.k_proj = nn.Linear(H, self.n_kv * D, bias=cfg.attention_bias, **kw)
            self.v_proj = nn.Linear(H, self.n_kv * D, bias=cfg.attention_bias, **kw)
        self.o_proj = nn.Linear(self.n_heads * D, H, bias=cfg.o_proj_bias, **kw)
        if cfg.qk_norm:
            self.q_norm = make_norm(cfg, D, **kw)
            self.k_norm = make_norm(cfg, D, **kw)
        self.qk_norm = cfg.qk_norm
        self.rotary_dim = cfg.rotary_dim or D
        self.scale = cfg.query_scale
        self.softcap = cfg.attn_logit_softcapping

    def _project(self, x):
        B, T, _ = x.shape
        if not self.fused:
            return self.q_proj(x), self.k_proj(x), self.v_proj(x)
        qd, kd = self.n_heads * self.head_dim, self.n_kv * self.head_dim
        qkv = self.qkv_proj(x)  # [B,T,(Hq+2Hkv)*D]
        return qkv[..., :qd], qkv[..., qd:qd + kd], qkv[..., qd + kd:]

    def _apply_rope(self, x, cos, sin):
        if self.rotary_dim == self.head_dim:
            return self._rope_fn(x, cos, sin)
        # Phi-3 partial_rotary_factor: only the first rotary_dim channels of each head rotate.
        rot, keep = x[..., :self.rotary_dim], x[..., self.rotary_dim:]
        return torch.cat((self._rope_fn(rot, cos, sin), keep), dim=-1)

    def forward(self, x, cos, sin, mask, kv_cache: Optional[Union[KVCache, StaticKVCache]] = None):
        B, T, _ = x.shape
        q, k, v = self._project(x)
        q = q.reshape(B, T, self.n_heads, self.head_dim)   # [B,T,Hq,D]
        k = k.reshape(B, T, self.n_kv, self.head_dim)      # [B,T,Hkv,D]
        v = v.reshape(B, T, self.n_kv, self.head_dim)
        if self.qk_norm:  # Qwen3, Gemma 3: per-head RMSNorm before RoPE
            q, k = self.q_norm(q), self.k_norm(k)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # [B,heads,T,D]
        q, k = self._apply_rope(q, cos, sin), self._apply_rope(k, cos, sin)
        if kv_cache is not None:
            k, v = kv_cache.update(self.layer_idx, k, v)  # [B,Hkv,S,D]: S = past + T, or the static cache's slots
            out = grouped_attention(q, k, v, mask, self.scale, self.softcap)  # [B,Hq,T,D]
        else:
            out = attention(q, k, v, mask, self.scale, self.softcap)
        return self.o_proj(out.transpose(1, 2).reshape(B, T, self.n_heads * self.head_dim))
