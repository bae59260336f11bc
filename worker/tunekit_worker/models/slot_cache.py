"""A KV cache of independent slots for continuous batching (serve.py).

Unlike StaticKVCache, where every row shares one write position, each slot (row) has its own length: a wave of
arriving requests is prefilled in one batched forward that writes each row's keys straight into its free slot
(`prefill`), and from then on each decodes one token per step alongside whatever else occupies the other slots; when it ends its slot is cleared and the next request takes it. Every buffer is
allocated once, so a decode step has fixed shapes (CUDA-graph capturable) whatever the requests' lengths.

A slot's entries beyond its length carry segment 0, so attention never reads what an earlier request (or a free
slot's dummy step) left there.
"""

from typing import List, Tuple

import torch


class SlotKVCache:
    def __init__(self, num_layers: int, slots: int, capacity: int, num_kv_heads: int, head_dim: int,
                 dtype: torch.dtype, device):
        shape = (slots, num_kv_heads, capacity, head_dim)
        self.keys: List[torch.Tensor] = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(num_layers)]
        self.values: List[torch.Tensor] = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(num_layers)]
        self.segments = torch.zeros((slots, capacity), dtype=torch.long, device=device)  # 1 = cached token
        # [B,1] per slot: the next write position, which is also the RoPE position of the token written there
        # (every request starts at slot position 0). A tensor, so a step reads no host value.
        self.length = torch.zeros((slots, 1), dtype=torch.long, device=device)
        self.active = torch.zeros((slots, 1), dtype=torch.long, device=device)  # [B,1] 1 = occupied: advances
        self.rows = torch.arange(slots, device=device)                          # [B]
        self.heads = torch.arange(num_kv_heads, device=device)                  # [Hkv]
        self.slots, self.capacity = slots, capacity

    def view(self, rows: int) -> "SlotKVCache":
        """The first `rows` slots as a cache sharing these buffers (a decode batch-size bucket)."""
        v = SlotKVCache.__new__(SlotKVCache)
        v.keys = [k[:rows] for k in self.keys]
        v.values = [x[:rows] for x in self.values]
        v.segments, v.length, v.active = self.segments[:rows], self.length[:rows], self.active[:rows]
        v.rows, v.heads, v.slots, v.capacity = self.rows[:rows], self.heads, rows, self.capacity
        return v

    # The three calls CausalLM.forward makes on a cache; a decode step feeds one token per row (T = 1).
    # Writes go through index_copy_ on flattened views with indices computed once per step: advanced indexing
    # (keys[rows, :, pos] = k) costs an index_put kernel of ~3.7 us per call on an H200, two per layer, ~0.2 ms of
    # a 0.5B model's 2 ms serving step (bench/gpu/serve_profile.py).
    def append_segments(self, seg: torch.Tensor) -> torch.Tensor:
        """seg [B,1] -> written at each row's own position; returns all segments [B,capacity]."""
        assert seg.shape[1] == 1, f"a slot cache decodes one token per row, got {seg.shape[1]}"
        pos = self.length[:, 0]                                                  # [B]
        self.segments.view(-1).index_copy_(0, self.rows * self.capacity + pos, seg[:, 0])
        # Row-major [B,Hkv,capacity,D] viewed as [B*Hkv*capacity, D]: (row, head, pos) -> flat row index.
        self._flat = ((self.rows[:, None] * self.heads.numel() + self.heads[None, :]) * self.capacity
                      + pos[:, None]).reshape(-1)                                # [B*Hkv]
        return self.segments

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """k/v [B,Hkv,1,D] written at each row's position; returns the whole [B,Hkv,capacity,D] buffers."""
        keys, values = self.keys[layer], self.values[layer]
        D = keys.shape[-1]
        keys.view(-1, D).index_copy_(0, self._flat, k.reshape(-1, D))
        values.view(-1, D).index_copy_(0, self._flat, v.reshape(-1, D))
        return keys, values

    def advance(self, n: int) -> None:
        self.length.add_(self.active * n)  # a free slot stays at 0: its dummy token always lands at slot 0

    # Host-side slot management (outside any captured step).
    def prefill(self, slots: List[int], lengths: List[int], width: int) -> "SlotPrefill":
        """A cache for one batched prefill forward of left-padded prompts [N,width] whose rows go to `slots`
        (row i's lengths[i] real tokens at its end): each layer's keys land straight in the slots, and the slots
        are marked as holding those tokens. Replaces a per-request, per-layer copy out of a scratch cache (2 x
        layers x N small copies: ~27 ms for a wave of 64 requests on a 0.5B model)."""
        for n in lengths:
            assert 0 < n < self.capacity, f"a prompt of {n} tokens does not fit a slot of {self.capacity}"
        dev = self.segments.device
        slot_t = torch.tensor(slots, dtype=torch.long, device=dev)               # [N]
        len_t = torch.tensor(lengths, dtype=torch.long, device=dev)              # [N]
        j = torch.arange(width, device=dev)                                      # [width]
        pos = j[None, :] - (width - len_t)[:, None]                              # [N,width] slot position
        # Padding (pos < 0) goes to each slot's last position: never attended before a decode step writes it.
        pos = torch.where(pos >= 0, pos, torch.full_like(pos, self.capacity - 1))
        heads = self.heads.numel()
        flat = ((slot_t[:, None, None] * heads + self.heads[None, :, None]) * self.capacity
                + pos[:, None, :]).reshape(-1)                                   # [N*Hkv*width]
        self.segments[slot_t] = (torch.arange(self.capacity, device=dev)[None, :] < len_t[:, None]).long()
        self.length[slot_t, 0] = len_t
        self.active[slot_t, 0] = 1
        return SlotPrefill(self, flat)

    def free(self, slot: int) -> None:
        self.segments[slot].zero_()
        self.length[slot, 0] = 0
        self.active[slot, 0] = 0


class SlotPrefill:
    """The cache CausalLM.forward sees during a batched prefill into slots (SlotKVCache.prefill): attention
    reads only the batch's own keys (as an empty KVCache would give), and every layer's keys and values are also
    written into the slots (index_copy_ on flat views: one kernel per layer and tensor for the whole wave)."""

    def __init__(self, cache: SlotKVCache, flat: torch.Tensor):
        self.cache, self.flat = cache, flat
        self.length = 0  # positions restart per row (from the segments), as for a fresh cache

    def append_segments(self, seg: torch.Tensor) -> torch.Tensor:
        return seg

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        D = k.shape[-1]
        self.cache.keys[layer].view(-1, D).index_copy_(0, self.flat, k.reshape(-1, D))
        self.cache.values[layer].view(-1, D).index_copy_(0, self.flat, v.reshape(-1, D))
        return k, v

    def advance(self, n: int) -> None:
        pass
