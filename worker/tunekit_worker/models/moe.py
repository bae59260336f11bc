"""Qwen3-MoE's sparse MLP block: a top-k softmax router over experts computed as batched matmuls.

Experts are held as 3-D parameters, as transformers v5 holds them in memory (`mlp.experts.gate_up_proj`
[E,2I,H], `mlp.experts.down_proj` [E,H,I]); checkpoints on the Hub store one Linear per expert
(`mlp.experts.{e}.gate_proj.weight` …). `checkpoint_sources` maps a parameter to the checkpoint tensors that fill
it (either layout loads), and `to_checkpoint_layout` writes the per-expert layout back, which transformers v4 and
v5 both load.

Routing as HF's Qwen3MoeSparseMoeBlock: softmax over the router logits in float32, top-k, optionally renormalised
(norm_topk_prob), cast to the activation dtype; each token's output is the weighted sum of its k experts' SwiGLU.
"""

import re
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .fused import swiglu

_FUSED = re.compile(r"^(.*\.mlp\.experts)\.(gate_up_proj|down_proj)$")
_PER_EXPERT = re.compile(r"^(.*\.mlp\.experts)\.(\d+)\.(gate_proj|up_proj|down_proj)\.weight$")


class Experts(nn.Module):
    def __init__(self, cfg: ModelConfig, device=None, dtype=None):
        super().__init__()
        E, H, I = cfg.num_experts, cfg.hidden_size, cfg.moe_intermediate_size
        self.gate_up_proj = nn.Parameter(torch.empty(E, 2 * I, H, device=device, dtype=dtype))  # [E,2I,H]
        self.down_proj = nn.Parameter(torch.empty(E, H, I, device=device, dtype=dtype))         # [E,H,I]

    def grouped(self, x: torch.Tensor, top_i: torch.Tensor, top_w: torch.Tensor) -> torch.Tensor:
        """x [N,H], top_i/top_w [N,k] -> [N,H]. Assignments sorted by expert and packed into [E,C,H] (C = the
        busiest expert's count: one host sync), so every expert runs as one slice of two bmm calls."""
        N, k = top_i.shape
        E = self.gate_up_proj.shape[0]
        flat = top_i.reshape(-1)                                   # [N*k] expert of each assignment
        order = torch.sort(flat, stable=True).indices              # assignments grouped by expert, tokens in order
        expert = flat[order]
        counts = torch.zeros(E, dtype=torch.long, device=x.device).scatter_add_(0, flat, torch.ones_like(flat))
        starts = counts.cumsum(0) - counts                          # [E] first sorted slot of each expert
        rank = torch.arange(N * k, device=x.device) - starts[expert]  # slot within the expert's group
        token = order // k
        C = int(counts.max())
        packed = x.new_zeros(E, C, x.shape[1])
        packed[expert, rank] = x[token]                            # [E,C,H]
        out = self._ffn(packed)                                    # [E,C,H]
        weighted = out[expert, rank] * top_w.reshape(-1)[order, None]  # [N*k,H]
        return torch.zeros_like(x).index_add_(0, token, weighted)

    def sync_free(self, x: torch.Tensor, top_i: torch.Tensor, top_w: torch.Tensor) -> torch.Tensor:
        """Same result without reading anything back to the host (a CUDA-graphed decode step). Few tokens: gather
        the k experts of each token ([N*k] weight slices); many: run every expert on every token and pick."""
        N, k = top_i.shape
        E = self.gate_up_proj.shape[0]
        if N * k <= E:
            flat = top_i.reshape(-1)                               # [N*k]
            xa = x[:, None].expand(N, k, x.shape[1]).reshape(N * k, 1, x.shape[1])  # [N*k,1,H], no sync
            gu = torch.bmm(xa, self.gate_up_proj[flat].transpose(1, 2))         # [N*k,1,2I]
            gate, up = gu.chunk(2, dim=-1)
            out = torch.bmm(swiglu(gate, up), self.down_proj[flat].transpose(1, 2))[:, 0]  # [N*k,H]
            return (out.view(N, k, -1) * top_w[..., None]).sum(1)
        out = self._ffn(x[None].expand(E, N, x.shape[1]))          # [E,N,H]
        picked = out[top_i, torch.arange(N, device=x.device)[:, None]]  # [N,k,H]
        return (picked * top_w[..., None]).sum(1)

    def _ffn(self, packed: torch.Tensor) -> torch.Tensor:
        """[E,C,H] -> [E,C,H]: each expert's SwiGLU on its rows."""
        gu = torch.bmm(packed, self.gate_up_proj.transpose(1, 2))  # [E,C,2I]
        gate, up = gu.chunk(2, dim=-1)
        return torch.bmm(swiglu(gate, up), self.down_proj.transpose(1, 2))


class SparseMoeBlock(nn.Module):
    """HF name `mlp` on a sparse layer: `gate` (the router, [E,H]) and `experts`."""

    def __init__(self, cfg: ModelConfig, device=None, dtype=None):
        super().__init__()
        self.top_k, self.norm_topk_prob = cfg.num_experts_per_tok, cfg.norm_topk_prob
        self.gate = nn.Linear(cfg.hidden_size, cfg.num_experts, bias=False, device=device, dtype=dtype)
        self.experts = Experts(cfg, device, dtype)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        B, T, H = h.shape
        x = h.reshape(B * T, H)
        probs = torch.softmax(self.gate(x), dim=-1, dtype=torch.float32)  # [N,E]
        top_w, top_i = torch.topk(probs, self.top_k, dim=-1)               # [N,k]
        if self.norm_topk_prob:
            top_w = top_w / top_w.sum(dim=-1, keepdim=True)
        top_w = top_w.to(x.dtype)
        # Decoding (one position per row) must not sync: it may be captured in a CUDA graph.
        out = self.experts.sync_free(x, top_i, top_w) if T == 1 else self.experts.grouped(x, top_i, top_w)
        return out.view(B, T, H)


def checkpoint_sources(name: str, shape: Tuple[int, ...], available) -> Optional[List[Tuple[str, tuple]]]:
    """For a fused expert parameter absent from the checkpoint: [(checkpoint key, index into the parameter)] when
    the checkpoint has (any of) the per-expert layout instead, else None. Partial sets come back whole, so the
    caller names exactly the expert tensors that are missing."""
    m = _FUSED.match(name)
    if not m or name in available:
        return None
    prefix, kind = m.groups()
    E = shape[0]
    if kind == "down_proj":
        sources = [(f"{prefix}.{e}.down_proj.weight", (e,)) for e in range(E)]
    else:
        inter = shape[1] // 2
        sources = [(f"{prefix}.{e}.{part}.weight", (e, slice(lo, lo + inter)))
                   for e in range(E) for part, lo in (("gate_proj", 0), ("up_proj", inter))]
    return sources if any(key in available for key, _ in sources) else None


def to_checkpoint_layout(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Fused expert tensors -> one tensor per expert and projection (the Hub layout); other entries unchanged."""
    out: Dict[str, torch.Tensor] = {}
    for name, t in state.items():
        m = _FUSED.match(name)
        if not m or t.dim() != 3:
            out[name] = t
            continue
        prefix, kind = m.groups()
        for e in range(t.shape[0]):
            if kind == "down_proj":
                out[f"{prefix}.{e}.down_proj.weight"] = t[e].contiguous()
            else:
                gate, up = t[e].chunk(2, dim=0)
                out[f"{prefix}.{e}.gate_proj.weight"] = gate.contiguous()
                out[f"{prefix}.{e}.up_proj.weight"] = up.contiguous()
    return out


def is_per_expert_key(key: str) -> bool:
    return _PER_EXPERT.match(key) is not None
