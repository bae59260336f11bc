"""The decoder's elementwise pieces (RMSNorm, RoPE, SwiGLU, and Gemma's (1 + w) RMSNorm and GeGLU) as plain functions, and a compiled set for decoding.

Eager, each piece is 2-8 kernels. In a CUDA-graphed decode step of an 8B model at batch 64 the graph holds ~1,100
kernels and these pieces are most of them: the profile (docs/generation-speed.md) shows ~2 ms of a 9.2 ms step in
tiny elementwise and mean kernels. `fused_pieces(model)` swaps in `torch.compile`d versions (one Triton kernel each)
on the model's modules for the duration of a prefill or a graph capture, then restores the eager ones, so training
(which compiles whole layers itself), CPU and torch 1.13 never see them. Set TUNEKIT_DECODE_COMPILE=0 to skip it (the
first generate call of a process then saves the ~10-20 s of compiling).
"""

import os
from contextlib import contextmanager
from typing import Dict

import torch
import torch.nn.functional as F


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    # As HF: normalise in float32, cast back, then scale (the order matters for bf16 parity).
    in_dtype = x.dtype
    x32 = x.float()
    x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return weight * x32.to(in_dtype)


def rms_norm_plus_one(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    # Gemma: the weight is stored around 0 and scales by (1 + weight), all in float32, cast back last (HF order).
    x32 = x.float()
    x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return (x32 * (1.0 + weight.float())).to(x.dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x [B,heads,T,D], cos/sin [B,1,T,D] -> x rotated (HF's apply_rotary_pos_emb for one tensor)."""
    return x * cos + rotate_half(x) * sin


def swiglu(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    return F.silu(gate) * up


def geglu(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    # Gemma's gelu_pytorch_tanh: the tanh approximation of GELU.
    return F.gelu(gate, approximate="tanh") * up


_COMPILED: Dict[str, object] = {}
_SLOTS = {"RMSNorm": ("_norm_fn", rms_norm), "Attention": ("_rope_fn", rope), "MLP": ("_swiglu_fn", swiglu),
          "GemmaRMSNorm": ("_norm_fn", rms_norm_plus_one), "GegluMLP": ("_swiglu_fn", geglu)}


def compiled_available() -> bool:
    return (hasattr(torch, "compile") and os.environ.get("TUNEKIT_DECODE_COMPILE", "1") != "0"
            and tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 2))


# Compiled variants each piece may keep. Dynamo's default (8) is spent quickly: sizes 1 and >= 2 specialise
# separately in every dimension, and serving alone meets 7 decode buckets x (T = 1, T = prompt) and the batched
# prefills; past the limit dynamo silently runs the piece eagerly, and every graph captured after that holds the
# eager kernels (measured: the 0.5B's serving step at 64 rows 2.1 ms instead of 1.4, and a model built later in
# the same process lost its compiled pieces altogether). The pieces are shared by every model of the process.
RECOMPILE_LIMIT = 64


def _raise_recompile_limit() -> None:
    config = torch._dynamo.config
    for name in ("recompile_limit", "cache_size_limit"):  # the name since torch 2.6 / before it
        if hasattr(config, name):
            setattr(config, name, max(getattr(config, name), RECOMPILE_LIMIT))
    if hasattr(config, "accumulated_recompile_limit"):
        config.accumulated_recompile_limit = max(config.accumulated_recompile_limit, 4 * RECOMPILE_LIMIT)


def _compiled(attr: str, fn):
    # Keyed by the function: two classes may fill the same slot with different pieces (RMSNorm / GemmaRMSNorm).
    if fn.__name__ not in _COMPILED:
        _raise_recompile_limit()
        _COMPILED[fn.__name__] = torch.compile(fn, dynamic=None)  # static shapes first, dynamic after a second one
    return _COMPILED[fn.__name__]


@contextmanager
def fused_pieces(model, enabled: bool = True):
    """Within the block, the model's RMSNorm / RoPE / SwiGLU run compiled (instance attributes shadow the eager
    class attributes); outside it nothing changes."""
    first = next(model.parameters(), None)
    if not (enabled and compiled_available() and first is not None and first.is_cuda):  # CPU: not worth a compile
        yield
        return
    patched = []
    for module in model.modules():
        slot = _SLOTS.get(type(module).__name__)
        if slot is not None:
            attr, fn = slot
            setattr(module, attr, _compiled(attr, fn))
            patched.append((module, attr))
    try:
        yield
    finally:
        for module, attr in patched:
            module.__dict__.pop(attr, None)
