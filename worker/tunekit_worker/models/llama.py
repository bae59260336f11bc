"""The decoder (Llama, Mistral, Qwen2, Qwen3, Gemma 2/3, Phi-3/4, Qwen3-MoE), numerically following transformers.

The architectures differ by switches on ModelConfig (models/config.py): Gemma's (1 + w) norms, four norms per
layer, GeGLU, scaled embeddings, query scale, logit soft-capping and local RoPE on its sliding layers; Phi-3's
fused qkv_proj / gate_up_proj and partial RoPE; Qwen3-MoE's expert blocks (models/moe.py).

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
from .fused import geglu, rms_norm, rms_norm_plus_one, rope, swiglu
from .kv_cache import KVCache, StaticKVCache
from .moe import SparseMoeBlock, checkpoint_sources

_HAS_SDPA = hasattr(F, "scaled_dot_product_attention")  # torch >= 2.0
# torch >= 2.5: SDPA takes grouped K/V itself (enable_gqa), so [B,Hkv,S,D] is not copied to [B,Hq,S,D].
_SDPA_GQA = _HAS_SDPA and tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 5)
_SDPA_SCALE = _HAS_SDPA and tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 1)  # `scale=` kwarg


class RMSNorm(nn.Module):
    _norm_fn = staticmethod(rms_norm)  # decoding may shadow it with a compiled one (models/fused.py)

    def __init__(self, dim: int, eps: float, device=None, dtype=None):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim, device=device, dtype=dtype))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._norm_fn(x, self.weight, self.eps)


class GemmaRMSNorm(RMSNorm):
    """Gemma's RMSNorm: scales by (1 + weight) in float32 (weights are stored around 0)."""
    _norm_fn = staticmethod(rms_norm_plus_one)


def make_norm(cfg: ModelConfig, dim: int, device=None, dtype=None) -> RMSNorm:
    return (GemmaRMSNorm if cfg.norm_plus_one else RMSNorm)(dim, cfg.rms_norm_eps, device=device, dtype=dtype)


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


def load_model(model_dir: str, device="cpu", dtype: torch.dtype = torch.float32, quantize: Optional[str] = None,
               quantize_targets=(), double_quant: bool = False) -> CausalLM:
    """Build the model from config.json and load its safetensors (single or sharded) with strict key matching.

    The model is first built on the meta device (no memory, no random init), then materialised on `device`, and
    each tensor is copied from the memory-mapped file, so peak memory is about one model in `dtype`.
    quantize "nf4" (QLoRA): the decoder projections named in `quantize_targets` become NF4Linear before anything
    is materialised, and each checkpoint weight is quantized on `device` as it is read, so the 16-bit model never
    exists on the device (peak: the quantized model + one dense weight).
    """
    from .config import load_config
    from ..safetensors_io import list_checkpoint_files, load_file

    cfg = load_config(model_dir)
    files = list_checkpoint_files(model_dir)
    # A checkpoint without lm_head.weight shares the embedding (also when config.json forgot to say so).
    tied = cfg.tie_word_embeddings or "lm_head.weight" not in files
    model = CausalLM(cfg, device="meta", dtype=dtype, tied=tied)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    # Which checkpoint tensors fill each parameter, and where: itself, or (MoE experts saved one Linear per
    # expert) E slices of a fused [E,…] parameter.
    sources = {name: checkpoint_sources(name, shape, files) or [(name, ())] for name, shape in expected.items()}
    used = {key for srcs in sources.values() for key, _ in srcs}
    # Ignored: the tied duplicate, and RoPE frequency buffers that some old checkpoints saved.
    ignored = {k for k in files if k.endswith("rotary_emb.inv_freq") or (tied and k == "lm_head.weight")}
    missing = sorted(key for key in used if key not in files)
    unexpected = sorted(set(files) - used - ignored)
    if missing or unexpected:
        raise _mismatch_error(model_dir, missing, unexpected, [])
    quantized = {}  # checkpoint weight name -> the NF4Linear that quantizes it
    if quantize == "nf4":
        from ..quant.nf4 import quantize_model_projections
        names = dict(model.named_modules())
        quantize_model_projections(model, quantize_targets, double_quant, dense=False)
        quantized = {f"{n}.weight": m for n, m in model.named_modules() if n in names and m is not names[n]}
    model = model.to_empty(device=device)
    by_file: Dict[str, List[tuple]] = {}
    for name, srcs in sources.items():
        for key, index in srcs:
            by_file.setdefault(files[key], []).append((key, name, index))
    params = dict(model.named_parameters())
    shapes = []
    with torch.no_grad():
        for path, entries in sorted(by_file.items()):
            tensors = load_file(path, [key for key, _, _ in entries])
            for key, name, index in entries:
                if name in quantized:
                    q = quantized[name]
                    if tuple(tensors[key].shape) != (q.out_features, q.in_features):
                        shapes.append(f"{key} {list(tensors[key].shape)} != {[q.out_features, q.in_features]}")
                    else:
                        q.load_dense(tensors[key])
                    continue
                target = params[name][index]  # a view: copying into it fills the parameter in place
                tensor = tensors[key]
                if tuple(tensor.shape) != tuple(target.shape):
                    shapes.append(f"{key} {list(tensor.shape)} != {list(target.shape)}")
                    continue
                target.copy_(tensor)  # converts dtype and moves to device
    if shapes:
        raise _mismatch_error(model_dir, [], [], shapes)
    model._inv_freq = {}
    return model.eval()
