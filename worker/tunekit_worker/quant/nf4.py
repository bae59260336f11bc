"""NF4 (4-bit NormalFloat) weights for QLoRA (Dettmers et al. 2023), in plain torch.

A weight [out,in] is flattened row-major and cut into blocks of 64 consecutive values (so, when in % 64 == 0,
blocks run along the input dim inside one row); each block is scaled by its absmax to [-1, 1] and every value is
replaced by the index of the nearest of the 16 NF4 code values; two 4-bit indices are packed per uint8 (the first
value in the high nibble). Double quantization (optional) stores the float32 block absmaxes as 8-bit codes: the
mean absmax is subtracted, and each group of 256 blocks gets its own float32 scale.

Memory per weight value: 0.5 byte + 4/64 (absmax float32) or + 1/64 + 4/(64*256) with double quantization.
`NF4Linear.forward` dequantizes to the activation dtype on the fly and runs the matmul; its backward recomputes
the dequantization (only the packed weight is saved), so no 16-bit copy of a weight outlives its matmul.
"""

from dataclasses import dataclass
from typing import Dict, Iterable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import WorkerError

BLOCK = 64          # values per absmax block (QLoRA's block size for weights)
SCALE_GROUP = 256   # blocks per second-level scale under double quantization (the paper's 256)

# The 16 NF4 values: quantiles of N(0,1) normalised to [-1, 1], with an exact 0 (asymmetric: 7 negative, 8
# positive), as published with the QLoRA paper (Appendix E) and used by bitsandbytes' create_normal_map.
NF4_CODE = (
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
    -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
    0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
)


@dataclass
class NF4Weight:
    """A quantized [out,in] weight. packed uint8 [ceil(n/2)] (n = out*in padded to a whole block);
    absmax float32 [blocks], or with double quantization absmax_q uint8 [blocks] + absmax_scale float32 [groups]
    + absmax_offset float32 [] (absmax = (q - 128) / 127 * scale + offset)."""
    shape: tuple
    packed: torch.Tensor
    absmax: Optional[torch.Tensor] = None
    absmax_q: Optional[torch.Tensor] = None
    absmax_scale: Optional[torch.Tensor] = None
    absmax_offset: Optional[torch.Tensor] = None

    def tensors(self) -> Dict[str, torch.Tensor]:
        return {k: v for k, v in (("packed", self.packed), ("absmax", self.absmax), ("absmax_q", self.absmax_q),
                                  ("absmax_scale", self.absmax_scale), ("absmax_offset", self.absmax_offset))
                if v is not None}


_CODE_BY_DEVICE: Dict[str, torch.Tensor] = {}


def _code(device) -> torch.Tensor:
    """The code table on `device`, made once: a fresh host-to-device copy per matmul would sync the stream."""
    key = str(device)
    if key not in _CODE_BY_DEVICE:
        _CODE_BY_DEVICE[key] = torch.tensor(NF4_CODE, dtype=torch.float32, device=device)
    return _CODE_BY_DEVICE[key]


def pack_nibbles(idx: torch.Tensor) -> torch.Tensor:
    """uint8 [2k] of values 0..15 -> uint8 [k]: element 2i in the high nibble, 2i+1 in the low one."""
    assert idx.numel() % 2 == 0, "pack_nibbles needs an even count"
    pairs = idx.reshape(-1, 2)
    return (pairs[:, 0] << 4) | pairs[:, 1]


def unpack_nibbles(packed: torch.Tensor) -> torch.Tensor:
    """uint8 [k] -> uint8 [2k] (inverse of pack_nibbles)."""
    return torch.stack((packed >> 4, packed & 15), dim=-1).reshape(-1)


def _quantize_scales(absmax: torch.Tensor):
    """float32 [blocks] -> uint8 codes, float32 [groups] scales, float32 [] offset (second-level quantization)."""
    offset = absmax.mean()
    centered = absmax - offset
    pad = (-centered.numel()) % SCALE_GROUP
    groups = F.pad(centered, (0, pad)).reshape(-1, SCALE_GROUP)         # [groups, 256]
    scale = groups.abs().amax(dim=1).clamp_min(1e-12)                     # [groups]
    q = torch.round(groups / scale[:, None] * 127).clamp(-127, 127) + 128  # 1..255
    return q.reshape(-1)[:absmax.numel()].to(torch.uint8), scale, offset


def _dequantize_scales(q: torch.Tensor, scale: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    n = q.numel()
    pad = (-n) % SCALE_GROUP
    g = F.pad(q.float() - 128, (0, pad)).reshape(-1, SCALE_GROUP)
    return (g / 127 * scale[:, None]).reshape(-1)[:n] + offset


def quantize_nf4(weight: torch.Tensor, double_quant: bool = False) -> NF4Weight:
    """Any float weight -> NF4Weight on the weight's device (computed in float32)."""
    shape = tuple(weight.shape)
    flat = weight.detach().reshape(-1).float()
    pad = (-flat.numel()) % BLOCK
    blocks = F.pad(flat, (0, pad)).reshape(-1, BLOCK)                     # [blocks, 64]
    absmax = blocks.abs().amax(dim=1)                                     # [blocks]
    normed = blocks / absmax.clamp_min(1e-12)[:, None]                    # in [-1, 1]
    code = _code(weight.device)
    # Nearest code value: bucketize against the midpoints between consecutive codes (ties go up).
    idx = torch.bucketize(normed.reshape(-1), (code[1:] + code[:-1]) / 2).to(torch.uint8)
    packed = pack_nibbles(idx)
    if not double_quant:
        return NF4Weight(shape, packed, absmax=absmax)
    q, scale, offset = _quantize_scales(absmax)
    return NF4Weight(shape, packed, absmax_q=q, absmax_scale=scale, absmax_offset=offset)


def _dequantize(packed, absmax, shape, dtype):
    """The dequantization itself, one function so CUDA can run it compiled (one fused kernel)."""
    idx = unpack_nibbles(packed).long()                                   # [blocks*64]
    vals = _code(packed.device)[idx].reshape(-1, BLOCK) * absmax[:, None]  # float32 [blocks, 64]
    n = 1
    for s in shape:
        n *= s
    return vals.reshape(-1)[:n].reshape(shape).to(dtype)


_compiled_dequantize = None
_compile_enabled = False  # set by the trainer's compile switch (train_state.compile_layers), off by default


def set_dequant_compile(enabled: bool) -> None:
    global _compile_enabled
    _compile_enabled = bool(enabled)


def _dequantize_fn(device: torch.device):
    """torch.compile'd dequantization on CUDA when compile is on: unpack, table lookup, scale and cast in one
    kernel instead of ~6 passes over int64/float32 temporaries. Otherwise (CPU, torch 1.13) the plain version."""
    global _compiled_dequantize
    if device.type != "cuda" or not _compile_enabled or not hasattr(torch, "compile"):
        return _dequantize
    if torch.compiler.is_compiling():  # inside a compiled decoder layer: inductor fuses the plain version itself
        return _dequantize
    if _compiled_dequantize is None:
        _compiled_dequantize = torch.compile(_dequantize, dynamic=False)
    return _compiled_dequantize


def block_absmax(w: NF4Weight) -> torch.Tensor:
    if w.absmax is not None:
        return w.absmax
    return _dequantize_scales(w.absmax_q, w.absmax_scale, w.absmax_offset)


def dequantize_nf4(w: NF4Weight, dtype: torch.dtype = torch.bfloat16) -> torch.Tensor:
    """NF4Weight -> dense [out,in] in `dtype` (the values are computed in float32, rounded once)."""
    return _dequantize_fn(w.packed.device)(w.packed, block_absmax(w), w.shape, dtype)


class _NF4Matmul(torch.autograd.Function):
    """y = x W^T with W dequantized in forward and again in backward: only the packed weight is kept between
    them. The base is frozen, so the only gradient is the input's."""

    @staticmethod
    def forward(ctx, x, packed, absmax, shape):
        ctx.save_for_backward(packed, absmax)
        ctx.shape = shape
        return F.linear(x, _dequantize_fn(x.device)(packed, absmax, shape, x.dtype))

    @staticmethod
    def backward(ctx, grad_out):
        packed, absmax = ctx.saved_tensors
        w = _dequantize_fn(grad_out.device)(packed, absmax, ctx.shape, grad_out.dtype)  # [out,in]
        return grad_out @ w, None, None, None


class NF4Linear(nn.Module):
    """A frozen nn.Linear with an NF4 weight (buffers, so model.to(device) moves them and nothing trains them).
    bias (rare on projections: Qwen2's q/k/v) stays a frozen dense parameter."""

    def __init__(self, in_features: int, out_features: int, bias: bool = False, double_quant: bool = False,
                 device=None, dtype=torch.bfloat16):
        super().__init__()
        self.in_features, self.out_features, self.double_quant = in_features, out_features, double_quant
        self.dtype = dtype  # the model's dtype: what a merge stores the dequantized weight in
        n = in_features * out_features
        blocks = -(-n // BLOCK)
        kw = {"device": device}
        self.register_buffer("packed", torch.zeros(blocks * BLOCK // 2, dtype=torch.uint8, **kw))
        if double_quant:
            self.register_buffer("absmax_q", torch.zeros(blocks, dtype=torch.uint8, **kw))
            self.register_buffer("absmax_scale", torch.ones(-(-blocks // SCALE_GROUP), dtype=torch.float32, **kw))
            self.register_buffer("absmax_offset", torch.zeros((), dtype=torch.float32, **kw))
        else:
            self.register_buffer("absmax", torch.zeros(blocks, dtype=torch.float32, **kw))
        self.bias = nn.Parameter(torch.zeros(out_features, device=device, dtype=dtype), requires_grad=False) \
            if bias else None

    @classmethod
    def from_linear(cls, lin: nn.Linear, double_quant: bool = False) -> "NF4Linear":
        q = cls(lin.in_features, lin.out_features, lin.bias is not None, double_quant, lin.weight.device,
                lin.weight.dtype)
        q.load_dense(lin.weight, lin.bias)
        return q

    def load_dense(self, weight: torch.Tensor, bias: Optional[torch.Tensor] = None) -> None:
        """Quantize a dense [out,in] weight (any device: moved to this module's) into the buffers."""
        if tuple(weight.shape) != (self.out_features, self.in_features):
            raise ValueError(f"weight {list(weight.shape)} != [{self.out_features}, {self.in_features}]")
        q = quantize_nf4(weight.to(self.packed.device), self.double_quant)
        with torch.no_grad():
            for name, t in q.tensors().items():
                getattr(self, name).copy_(t)
            if bias is not None:
                self.bias.copy_(bias)

    def nf4_weight(self) -> NF4Weight:
        shape = (self.out_features, self.in_features)
        if self.double_quant:
            return NF4Weight(shape, self.packed, absmax_q=self.absmax_q, absmax_scale=self.absmax_scale,
                             absmax_offset=self.absmax_offset)
        return NF4Weight(shape, self.packed, absmax=self.absmax)

    def dense_weight(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return dequantize_nf4(self.nf4_weight(), dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Plain tensors only (no NF4Weight) on this path: it is traced when the decoder layer is compiled.
        absmax = (_dequantize_scales(self.absmax_q, self.absmax_scale, self.absmax_offset) if self.double_quant
                  else self.absmax)
        out = _NF4Matmul.apply(x, self.packed, absmax, (self.out_features, self.in_features))
        return out if self.bias is None else out + self.bias.to(out.dtype)


def quantize_model_projections(model: nn.Module, names: Iterable[str], double_quant: bool = False,
                               dense: bool = True) -> int:
    """Replace every nn.Linear inside the decoder layers whose last name is in `names` by an NF4Linear, one at a
    time (each dense weight can be freed before the next is quantized). dense False (a model on the meta device,
    load_model): empty NF4Linear shells of the same sizes, filled later with load_dense. Returns how many."""
    names = set(names)
    targets = [(n, m) for n, m in model.named_modules()
               if isinstance(m, nn.Linear) and ".layers." in f".{n}" and n.rsplit(".", 1)[-1] in names]
    if not targets:
        raise WorkerError("WORKER_INVALID_CONFIG", f"quantize: nf4 found no projection named {sorted(names)}",
                          "quantize a model whose decoder layers use those projection names")
    for name, lin in targets:
        parent, child = name.rsplit(".", 1)
        q = (NF4Linear.from_linear(lin, double_quant) if dense else
             NF4Linear(lin.in_features, lin.out_features, lin.bias is not None, double_quant, lin.weight.device,
                       lin.weight.dtype))
        setattr(model.get_submodule(parent), child, q)
    return len(targets)


def dequantize_model_projections(model: nn.Module) -> int:
    """Every NF4Linear back to an nn.Linear holding its dequantized weight (in the model's dtype), e.g. before a
    merged model is saved as a plain HF folder. Returns how many."""
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, NF4Linear)]
    for name, q in found:
        parent, child = name.rsplit(".", 1)
        lin = nn.Linear(q.in_features, q.out_features, bias=q.bias is not None, device=q.packed.device,
                        dtype=q.dtype)
        with torch.no_grad():
            lin.weight.copy_(q.dense_weight(torch.float32))
            if q.bias is not None:
                lin.bias.copy_(q.bias)
        lin.requires_grad_(False)
        setattr(model.get_submodule(parent), child, lin)
    return len(found)
