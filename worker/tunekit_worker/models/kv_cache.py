"""Key/value caches for incremental decoding.

Both remember every cached token's segment id, so left padding (segment 0) of a batched prompt stays masked for all
later steps. `KVCache` grows by doubling and keeps its length as a Python int (any caller, any number of steps);
`StaticKVCache` is allocated once at its final size and keeps its length on the device, so one decode step has
fixed shapes and can be captured in a CUDA graph (models/decode_step.py, generate.py).
"""

from typing import List, Optional, Tuple

import torch


class KVCache:
    def __init__(self, num_layers: int, capacity: int = 0):
        self.keys: List[Optional[torch.Tensor]] = [None] * num_layers    # each [B,Hkv,capacity,D]
        self.values: List[Optional[torch.Tensor]] = [None] * num_layers
        self.segments: Optional[torch.Tensor] = None                     # [B,capacity]
        self.length = 0  # tokens cached so far (advanced once per forward, after all layers ran)
        self.initial_capacity = capacity

    def _grow(self, buf: Optional[torch.Tensor], needed: int, like: torch.Tensor, dim: int) -> torch.Tensor:
        if buf is not None and buf.shape[dim] >= needed:
            return buf
        capacity = max(needed, self.initial_capacity, 2 * (buf.shape[dim] if buf is not None else 0))
        shape = list(like.shape)
        shape[dim] = capacity
        new = torch.zeros(shape, dtype=like.dtype, device=like.device)
        if buf is not None and self.length > 0:
            new.narrow(dim, 0, self.length).copy_(buf.narrow(dim, 0, self.length))
        return new

    def append_segments(self, seg: torch.Tensor) -> torch.Tensor:
        """Store the new tokens' segment ids [B,T]; return all cached + new ones [B,S]."""
        end = self.length + seg.shape[1]
        self.segments = self._grow(self.segments, end, seg, 1)
        self.segments[:, self.length:end] = seg
        return self.segments[:, :end]

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Append k/v [B,Hkv,T,D] for one layer; return the full [B,Hkv,S,D] views for attention."""
        end = self.length + k.shape[2]
        self.keys[layer] = self._grow(self.keys[layer], end, k, 2)
        self.values[layer] = self._grow(self.values[layer], end, v, 2)
        self.keys[layer][:, :, self.length:end] = k
        self.values[layer][:, :, self.length:end] = v
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]

    def advance(self, n: int) -> None:
        self.length += n

    def select_rows(self, rows: torch.Tensor) -> None:
        """Keep only batch rows `rows` (1-D long tensor), e.g. to drop finished sequences during generation."""
        for i, k in enumerate(self.keys):
            if k is not None:
                self.keys[i] = k.index_select(0, rows)
                self.values[i] = self.values[i].index_select(0, rows)
        if self.segments is not None:
            self.segments = self.segments.index_select(0, rows)


class StaticKVCache:
    """A fixed-size cache for CUDA-graph decoding: every shape and address is the same at every step.

    All buffers are allocated once ([B,Hkv,capacity,D] per layer) and the write position lives on the device
    (`length`, a [1] tensor advanced in place), so a decode step needs no host sync and no new cache tensor: it can
    be captured once and replayed. New keys are written with index_copy_ at their slots; attention reads the first
    `attend_len` slots (the whole buffer while decoding, only the prompt during prefill). A slot after the query is
    masked by its index (build_attention_mask), so entries left by an earlier call or a graph warmup are never read.
    """

    def __init__(self, num_layers: int, batch: int, capacity: int, num_kv_heads: int, head_dim: int,
                 dtype: torch.dtype, device):
        shape = (batch, num_kv_heads, capacity, head_dim)
        self.keys = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(num_layers)]
        self.values = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(num_layers)]
        self.segments = torch.zeros((batch, capacity), dtype=torch.long, device=device)  # 0 = padding or empty
        self.length = torch.zeros(1, dtype=torch.long, device=device)  # [1] next free slot (a tensor: no sync)
        self.capacity = capacity
        self.attend_len = capacity
        self._slots: Optional[torch.Tensor] = None  # [T] slots of the tokens of the current forward

    def reset(self, attend_len: int) -> None:
        """Start a new batch of sequences; attention reads the first `attend_len` slots until changed."""
        assert 0 < attend_len <= self.capacity, f"attend_len {attend_len} outside (0, {self.capacity}]"
        self.length.zero_()
        self.segments.zero_()
        self.attend_len = attend_len

    def append_segments(self, seg: torch.Tensor) -> torch.Tensor:
        """Store the new tokens' segment ids [B,T] at their slots; return the attended ones [B,attend_len]."""
        self._slots = self.length + torch.arange(seg.shape[1], device=seg.device)  # [T]
        self.segments.index_copy_(1, self._slots, seg)
        return self.segments[:, :self.attend_len]

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Write k/v [B,Hkv,T,D] at the slots of append_segments; return [B,Hkv,attend_len,D] views."""
        self.keys[layer].index_copy_(2, self._slots, k)
        self.values[layer].index_copy_(2, self._slots, v)
        return self.keys[layer][:, :, :self.attend_len], self.values[layer][:, :, :self.attend_len]

    def advance(self, n: int) -> None:
        self.length.add_(n)
