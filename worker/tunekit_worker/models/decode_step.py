"""One decode step on a static KV cache, captured as a CUDA graph and replayed for every new token.

Eager decoding launches some 40 kernels per layer per token; at batch 64 the Python and driver work of those
launches, not the GPU, sets the step time (transformers: 59 ms per step for a 0.5B model). With every input in a static
buffer (ids, positions, the cache's write slot) and the cache preallocated, one step is the same kernels on the same
addresses every time, so it is captured once and replayed as one launch.

A `DecodeRunner` owns those buffers. Graph runners are kept on the model (`model._decode_runners`, least recently
used first, at most MAX_RUNNERS) keyed by batch size and cache capacity, so repeated requests skip the capture; a
runner is dropped when the model's parameters move (its graph would read freed memory). Without graphs (CPU, torch
< 2.0, "dynamic" RoPE) the same step runs eagerly on a fresh runner: same tokens, no graph.
"""

import sys
import time
from collections import OrderedDict
from typing import Optional

import torch

from .attention import positions_from_segments
from .fused import fused_pieces
from .kv_cache import StaticKVCache
from .llama import CausalLM

_TORCH_2 = int(torch.__version__.split(".")[0]) >= 2
MAX_RUNNERS = 2        # captured graphs kept per model (each holds its own cache: ~3 GiB for an 8B at batch 64)
WARMUP_STEPS = 3       # eager steps on a side stream before capture (lazy cuBLAS/SDPA setup must not be captured)
REUSE_SLACK = 0.1      # reuse a larger cache while its extra KV bytes per step stay under 10% of the weight bytes


def graphs_supported(model: CausalLM) -> bool:
    """CUDA graphs need CUDA and torch >= 2.0 (the capture API and SDPA). "dynamic" RoPE recomputes its frequencies
    from the largest position (a host sync per step), so it decodes eagerly on the static cache instead."""
    device = model.model.embed_tokens.weight.device
    dynamic = (model.config.rope_scaling or {}).get("rope_type") == "dynamic"
    return device.type == "cuda" and _TORCH_2 and hasattr(torch.cuda, "CUDAGraph") and not dynamic


def capacity_bucket(needed: int) -> int:
    """Round a cache size up to a quarter of its power of two (at most +25%, multiples of 16 from 64), so prompts
    of nearby lengths share one captured graph."""
    if needed <= 64:
        return 64
    step = 1 << (needed.bit_length() - 3)  # 2^(floor(log2 n) - 2)
    return -(-needed // step) * step


class DecodeRunner:
    def __init__(self, model: CausalLM, batch: int, capacity: int, use_graph: bool):
        cfg, weight = model.config, model.model.embed_tokens.weight
        device = weight.device
        self.batch, self.capacity, self.use_graph = batch, capacity, use_graph
        self.cache = StaticKVCache(cfg.num_hidden_layers, batch, capacity, cfg.num_key_value_heads, cfg.head_dim,
                                   weight.dtype, device)
        # Static inputs of the step: the graph reads these addresses at every replay.
        self.ids = torch.zeros((batch, 1), dtype=torch.long, device=device)        # [B,1] the last sampled ids
        self.positions = torch.zeros((batch, 1), dtype=torch.long, device=device)  # [B,1] their RoPE positions
        self.segments = torch.ones((batch, 1), dtype=torch.long, device=device)    # [B,1] new tokens are real
        self.fingerprint = parameter_fingerprint(model)
        self.graph = None
        self.logits: Optional[torch.Tensor] = None  # [B,V] float32: the graph's output, rewritten at every replay
        self.prompt_len = 0
        self.capture_s: Optional[float] = None

    def prefill(self, model: CausalLM, ids: torch.Tensor, segments: torch.Tensor,
                lengths: torch.Tensor) -> torch.Tensor:
        """Left-padded prompts ids/segments [B,L] (segment 0 = padding), lengths [B] -> last-position logits [B,V].

        One batched forward writes slots 0..L-1 and attends over those L slots only (not the whole buffer)."""
        B, L = ids.shape
        assert B == self.batch and L < self.capacity, \
            f"prompts [{B},{L}] do not fit the cache [{self.batch},{self.capacity}]"
        self.prompt_len = L
        self.cache.reset(attend_len=L)
        with fused_pieces(model, self.use_graph):  # graph runners: compiled RMSNorm / RoPE / SwiGLU
            hidden = model(ids, positions_from_segments(segments), segments, self.cache)  # [B,L,H]
        self.cache.attend_len = self.cache.capacity  # decoding attends over the whole buffer: fixed shapes
        self.positions.copy_(lengths[:, None])       # each row continues at its own length
        return model.logits(hidden[:, -1])

    def step(self, model: CausalLM) -> torch.Tensor:
        """The captured function: one token per row from the static buffers -> logits [B,V] float32.

        Reads ids/positions/cache.length, writes the cache at slot cache.length, then advances positions and the
        slot in place, so a replay needs nothing from the host but new ids."""
        hidden = model(self.ids, self.positions, self.segments, self.cache)  # [B,1,H]
        self.positions.add_(1)
        return model.logits(hidden[:, -1])

    def decode(self, model: CausalLM, tokens: torch.Tensor) -> torch.Tensor:
        """Feed the sampled ids [B]; return the next logits [B,V] float32 (the graph's static output when captured:
        read it before the next decode)."""
        self.ids.copy_(tokens.view(self.batch, 1))
        if self.use_graph and self.graph is None:
            self._capture(model)
        if self.graph is None:
            return self.step(model)
        self.graph.replay()
        return self.logits

    def _capture(self, model: CausalLM) -> None:
        t0 = time.perf_counter()
        saved = (self.positions.clone(), self.cache.length.clone())
        # Warmup writes junk keys at the next slots; the real steps overwrite them before any query can see them
        # (a key after the query is masked), but a slot past the buffer would be a device-side assert.
        warmup = max(1, min(WARMUP_STEPS, self.capacity - self.prompt_len - 1))
        try:
            if not model.model.embed_tokens.weight.is_cuda:  # capturing CPU work would record an empty graph
                raise RuntimeError("CUDA graphs need the model on a CUDA device")
            with fused_pieces(model):  # the compiled pieces' kernels are what the graph records
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):  # also compiles them for this shape, outside the capture
                    for _ in range(warmup):
                        self.step(model)
                torch.cuda.current_stream().wait_stream(side)
                self.positions.copy_(saved[0])
                self.cache.length.copy_(saved[1])
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):  # records only: nothing runs until replay
                    self.logits = self.step(model)
            self.graph = graph
        except Exception as e:  # a capture failure costs speed, not the request
            print(f"tunekit_worker: CUDA graph capture failed, decoding eagerly: {type(e).__name__}: {e}",
                  file=sys.stderr, flush=True)
            self.use_graph, self.graph, self.logits = False, None, None
            self.positions.copy_(saved[0])
            self.cache.length.copy_(saved[1])
        self.capture_s = time.perf_counter() - t0


def parameter_fingerprint(model: CausalLM) -> tuple:
    """Where every parameter lives: a graph reads these addresses, so any change (reload, .to(), LoRA applied)
    must drop it. In-place updates (a LoRA merge, an optimizer step) keep the addresses and need nothing."""
    return tuple((p.data_ptr(), p.dtype, tuple(p.shape)) for p in model.parameters())


def acquire_runner(model: CausalLM, batch: int, needed: int, graphs: bool = True) -> DecodeRunner:
    """A runner for `batch` rows of up to `needed` tokens (prompt + new): a cached graph runner when graphs are
    supported and wanted, else a fresh eager one."""
    if not (graphs and graphs_supported(model)):
        return DecodeRunner(model, batch, needed, use_graph=False)
    return cached_runner(model, batch, needed)


def cached_runner(model: CausalLM, batch: int, needed: int) -> DecodeRunner:
    """The smallest kept graph runner for `batch` rows that holds `needed` tokens and is no larger than a new one
    would be (capacity_bucket) or reads at most REUSE_SLACK extra bytes per step (small batches: one graph serves
    prompts of any length), else a new one, captured at its first decode. A runner whose capture failed
    stays cached as an eager one, so the capture is not retried on every request."""
    runners: "OrderedDict[tuple, DecodeRunner]" = model.__dict__.setdefault("_decode_runners", OrderedDict())
    fingerprint = parameter_fingerprint(model)
    for key in [k for k, r in runners.items() if r.fingerprint != fingerprint]:
        del runners[key]
    cfg = model.config
    weight = model.model.embed_tokens.weight
    kv_bytes_per_token = cfg.num_hidden_layers * 2 * cfg.num_key_value_heads * cfg.head_dim * weight.element_size()
    slack = REUSE_SLACK * sum(p.numel() * p.element_size() for p in model.parameters())
    bucket = capacity_bucket(needed)
    fits = [k for k, r in runners.items() if r.batch == batch and r.capacity >= needed
            and (r.capacity <= bucket or batch * (r.capacity - needed) * kv_bytes_per_token <= slack)]
    if fits:
        key = min(fits, key=lambda k: runners[k].capacity)
        runners.move_to_end(key)
        return runners[key]
    while len(runners) >= MAX_RUNNERS:  # free the oldest cache (and graph) before allocating the next one
        runners.popitem(last=False)
    runner = DecodeRunner(model, batch, bucket, use_graph=True)
    runners[(batch, runner.capacity)] = runner
    return runner


def release_runners(model: CausalLM) -> None:
    """Free the captured graphs and caches kept on `model` (e.g. before training it)."""
    model.__dict__.pop("_decode_runners", None)
