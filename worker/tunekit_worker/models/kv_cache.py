"""Key/value cache for incremental decoding.

Buffers are preallocated and grown by doubling, so a decode step writes in place instead of re-concatenating the
whole cache. The cache also remembers every cached token's segment id, so left padding (segment 0) of a batched
prompt stays masked for all later steps.
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
