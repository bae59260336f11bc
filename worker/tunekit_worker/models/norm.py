"""The decoder's RMSNorm modules: Llama's (scales by w) and Gemma's (scales by 1 + w), by ModelConfig.norm_plus_one.

The arithmetic is in models/fused.py (rms_norm, rms_norm_plus_one), where decoding may swap in compiled versions.
"""

import torch
import torch.nn as nn

from .config import ModelConfig
from .fused import rms_norm, rms_norm_plus_one


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
