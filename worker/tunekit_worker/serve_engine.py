"""Continuous batching (docs/worker-protocol.md "Serving"): requests join and leave the decode batch at every step.

One `step()`: cancelled requests leave (their slot is freed), waiting requests are admitted into free slots
(prefilled in batches, their first token sampled, their KV copied into the slots), then one decode step is
launched over the occupied slots, every row sampling with its own temperature / top_p / seed **on the device**:
the sampled ids go straight into the buffer the next step feeds, so launching step k+1 needs nothing from the
host. Only then does the host read step k-1's ids (copied to pinned memory behind an event) and handle them
(stops, max_new_tokens, streaming) while the GPU runs step k. Without this overlap the GPU idled for the whole
host side of every step (~1-2 ms for 64 rows: as long as a 0.5B model's whole step). The price is one step of
lag: a request that ends at step k-1 is still fed through step k (its output is dropped, its slot freed after).
Each new token goes out as soon as it is read (`on_tokens`), except tokens that may begin a stop sequence: those
wait until it is clear they do not.

The decode batch is the first `bucket` slots (a power of two covering the highest occupied slot; slots are
handed out lowest first), so a few requests do not pay for a full batch. On CUDA each bucket's step is a
captured graph (decode_step.py's pattern); elsewhere it runs eagerly. A request alone gives the same tokens as
`generate` with that prompt alone (greedy, or seeded sampling: its own generator, drawn once per token).
"""

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, List, Optional

import torch

from .errors import WorkerError
from .generate import sample_next
from .models.decode_step import graphs_supported
from .models.fused import fused_pieces
from .models.slot_cache import SlotKVCache
from .multi_lora import select_adapters
from .serve_graphs import ServeGraphs

# Padded prompt tokens prefilled in one step at most: a wave of arrivals is prefilled in a few batched forwards
# (compute-bound, like generate's prefill) without stalling the running rows' decoding for too long.
PREFILL_TOKENS = 16384
# Below this many padded tokens a wave is prefilled with the eager pieces: each compiled piece costs ~100 us of
# dynamo/inductor wrapper time per call on the host, 121 calls per 0.5B forward, which made one 256-token request's
# admission take 35 ms (GPU work: a few ms; bench/gpu/serve_profile.py). Large waves are GPU-bound: compiled there.
COMPILED_PREFILL_TOKENS = 4096


@dataclass
class ServeRequest:
    rid: object
    prompt: List[int]
    adapter: int = 0                      # 0 = the base model
    max_new_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    seed: Optional[int] = None
    stop_token_ids: List[int] = field(default_factory=list)
    stop_sequences: List[List[int]] = field(default_factory=list)
    on_tokens: Callable[[List[int]], None] = lambda ids: None   # newly final tokens, in order
    on_done: Callable[[dict], None] = lambda result: None        # the request's `done` result
    emit: Optional[Callable[[dict], None]] = None                # its protocol events (serve_session.py)
    # state
    ids: List[int] = field(default_factory=list)
    sent: int = 0
    slot: int = -1
    finished: bool = False
    generator: Optional[torch.Generator] = None


def _held_back(ids: List[int], stops: List[List[int]]) -> int:
    """How many trailing ids could still be the start of a stop sequence (not yet safe to send)."""
    best = 0
    for s in stops:
        for k in range(min(len(s) - 1, len(ids)), best, -1):
            if ids[-k:] == s[:k]:
                best = k
                break
    return best


@dataclass
class _Launched:
    """A decode step on its way: who held each slot when it was launched, and where its ids arrive."""
    rows: List[Optional[ServeRequest]]
    ids: torch.Tensor                     # [n] host (pinned on CUDA): the sampled ids, valid once `ready` fired
    ready: Optional[object] = None        # torch.cuda.Event (None on CPU: the copy was synchronous)


class ServeEngine:
    def __init__(self, model, max_batch: int, max_len: int, graphs: bool = True):
        cfg, weight = model.config, model.model.embed_tokens.weight
        self.model, self.max_batch, self.max_len = model, max_batch, max_len
        self.device = weight.device
        self.cache = SlotKVCache(cfg.num_hidden_layers, max_batch, max_len, cfg.num_key_value_heads, cfg.head_dim,
                                 weight.dtype, self.device)
        self.ids = torch.zeros((max_batch, 1), dtype=torch.long, device=self.device)  # [B,1] fed tokens
        cuda = self.device.type == "cuda"
        # Two host buffers: step k+1 is launched (its copy queued) before step k's ids are read.
        self.host_ids = [torch.zeros(max_batch, dtype=torch.long, pin_memory=cuda) for _ in range(2)]
        self.launched: Optional[_Launched] = None
        self.adapters = torch.zeros(max_batch, dtype=torch.long, device=self.device)   # [B] per-slot adapter
        self.rows: List[Optional[ServeRequest]] = [None] * max_batch
        self.waiting: Deque[ServeRequest] = deque()
        self.cancelled: set = set()
        self.graphs = ServeGraphs(self) if graphs and graphs_supported(model) else None
        self.steps = 0
        self.waves, self.admit_s = 0, 0.0  # prefill waves and the host seconds spent in them (incl. their sync)

    # --- the public surface (called from one thread; serve_session.py serialises) ---
    def submit(self, req: ServeRequest) -> None:
        self.check(req)
        if req.temperature > 0:
            req.generator = torch.Generator(device=self.device)
            req.generator.manual_seed(0 if req.seed is None else int(req.seed))
        self.waiting.append(req)

    def check(self, req: ServeRequest) -> None:
        """Refuse a request that cannot run (reads only the config: safe from any thread)."""
        vocab = self.model.config.vocab_size
        problems = []
        if not req.prompt:
            problems.append("prompt is empty (a prompt needs at least one token, e.g. BOS)")
        elif min(req.prompt) < 0 or max(req.prompt) >= vocab:
            problems.append(f"prompt has token ids outside [0, {vocab})")
        if len(req.prompt) + req.max_new_tokens > self.max_len:
            problems.append(f"prompt ({len(req.prompt)} tokens) + max_new_tokens ({req.max_new_tokens}) exceeds "
                            f"the slot size max_len {self.max_len}")
        if problems:
            raise WorkerError("WORKER_INVALID_REQUEST", f"invalid submit {req.rid!r}: " + "; ".join(problems),
                              "send prompt token ids of this model's tokenizer, and keep prompt + max_new_tokens "
                              "within serve_start's max_len (or restart serving with a larger max_len)")

    def cancel(self, rid) -> bool:
        known = any(r.rid == rid for r in self.waiting) or any(r is not None and r.rid == rid for r in self.rows)
        if known:
            self.cancelled.add(rid)
        return known

    def busy(self) -> bool:
        return (bool(self.waiting) or any(r is not None for r in self.rows) or bool(self.cancelled)
                or self.launched is not None)

    def abort_all(self, reason: str = "cancelled") -> None:
        for req in list(self.waiting) + [r for r in self.rows if r is not None]:
            self._finish(req, reason)
        self.waiting.clear()
        self.cancelled.clear()
        self.launched = None

    def fail_all(self, fail: Callable[[ServeRequest], None]) -> None:
        """End every waiting and running request through `fail` (a step raised) and free their slots."""
        for req in list(self.waiting) + [r for r in self.rows if r is not None]:
            if req.slot >= 0 and self.rows[req.slot] is req:
                self.rows[req.slot] = None
                self.cache.free(req.slot)
            req.finished = True
            fail(req)
        self.waiting.clear()
        self.cancelled.clear()
        self.launched = None

    @torch.no_grad()
    def step(self) -> None:
        self._drop_cancelled()
        self._admit()
        occupied = [i for i, r in enumerate(self.rows) if r is not None]
        previous, self.launched = self.launched, (self._launch(occupied) if occupied else None)
        if previous is not None:  # read while the GPU runs the step just launched
            self._collect(previous)

    # --- internals ---
    def _launch(self, occupied: List[int]) -> _Launched:
        """Queue one decode step over the first `bucket` slots and the on-device sampling of its ids."""
        n = 1 << max(occupied).bit_length() if max(occupied) > 0 else 1  # bucket: power of two > highest slot
        n = min(n, self.max_batch)
        if getattr(self.model, "adapter_index", None) is not None:
            self.model.adapter_index.set(self.adapters[:n])
        logits = self.graphs.run(n) if self.graphs is not None else self._step(n)  # [n,V] float32
        self.steps += 1
        ids = logits.argmax(dim=-1)  # [n] one pass for every greedy row (free slots: junk, never read)
        for i in occupied:
            req = self.rows[i]
            if req.temperature > 0:
                ids[i:i + 1] = sample_next(logits[i:i + 1], req.temperature, req.top_p, req.generator)
        self.ids[:n, 0].copy_(ids)
        host = self.host_ids[self.steps % 2][:n]
        host.copy_(ids, non_blocking=True)
        ready = None
        if self.device.type == "cuda":
            ready = torch.cuda.Event()
            ready.record()
        return _Launched(rows=list(self.rows[:n]), ids=host, ready=ready)

    def _collect(self, step: _Launched) -> None:
        if step.ready is not None:
            step.ready.synchronize()
        ids = step.ids.tolist()
        for i, req in enumerate(step.rows):
            # A request that ended (or was cancelled) since the launch, or a slot taken over since: not its token.
            if req is not None and not req.finished and self.rows[i] is req:
                self._push(req, ids[i])

    # --- internals ---
    def _step(self, n: int, advance: bool = True) -> torch.Tensor:
        """One token for each of the first n slots -> logits [n,V] float32 (free slots compute junk, unread)."""
        cache = self.cache.view(n)
        if not advance:  # graph warmup: do not move the slots on
            saved = cache.length.clone()
        hidden = self.model(self.ids[:n], cache.length, torch.ones_like(self.ids[:n]), cache)  # [n,1,H]
        if not advance:
            cache.length.copy_(saved)
        return self.model.logits(hidden[:, -1])

    def _drop_cancelled(self) -> None:
        if not self.cancelled:
            return
        for req in [r for r in self.waiting if r.rid in self.cancelled]:
            self.waiting.remove(req)
            self._finish(req, "cancelled")
        for req in [r for r in self.rows if r is not None and r.rid in self.cancelled]:
            self._finish(req, "cancelled")
        self.cancelled.clear()

    def _admit(self) -> None:
        """Prefill waiting requests into free slots: all that fit (slots, PREFILL_TOKENS) in one left-padded
        forward, as generate() prefills a batch (padding is segment 0, each row has positions 0..L_i-1, so a row
        gets the same keys as alone); then each row's keys are copied into its slot and its first token sampled."""
        batch: List[ServeRequest] = []
        free = self.rows.count(None)
        while self.waiting and len(batch) < free:
            req = self.waiting[0]
            longest = max([len(r.prompt) for r in batch] + [len(req.prompt)])
            if batch and longest * (len(batch) + 1) > PREFILL_TOKENS:
                break  # the rest waits for the next step: one step's prefill stays bounded
            self.waiting.popleft()
            if req.max_new_tokens == 0:
                self._finish(req, "length")
                continue
            batch.append(req)
        if not batch:
            return
        t0 = time.perf_counter()
        L = max(len(r.prompt) for r in batch)
        ids = torch.zeros((len(batch), L), dtype=torch.long)       # [N,L] left-padded
        segments = torch.zeros((len(batch), L), dtype=torch.long)  # [N,L] 0 = padding
        for i, req in enumerate(batch):
            ids[i, L - len(req.prompt):] = torch.tensor(req.prompt, dtype=torch.long)
            segments[i, L - len(req.prompt):] = 1
        ids, segments = ids.to(self.device), segments.to(self.device)
        slots = [i for i, r in enumerate(self.rows) if r is None][:len(batch)]  # lowest first: small buckets
        slot_t = torch.tensor(slots, dtype=torch.long, device=self.device)
        adapters = torch.tensor([r.adapter for r in batch], dtype=torch.long, device=self.device)
        self.adapters[slot_t] = adapters
        select_adapters(self.model, adapters)
        prefill = self.cache.prefill(slots, [len(r.prompt) for r in batch], L)
        compiled = self.graphs is not None and len(batch) * L >= COMPILED_PREFILL_TOKENS
        with fused_pieces(self.model, compiled):
            hidden = self.model(ids, None, segments, prefill)      # [N,L,H]; keys written into the slots
        logits = self.model.logits(hidden[:, -1])                  # [N,V]
        first = logits.argmax(dim=-1)                              # [N]
        for i, req in enumerate(batch):
            if req.temperature > 0:
                first[i:i + 1] = sample_next(logits[i:i + 1], req.temperature, req.top_p, req.generator)
        self.ids[slot_t, 0] = first  # what the next decode step feeds these slots
        first = first.tolist()
        self.waves += 1
        self.admit_s += time.perf_counter() - t0
        for req, slot, tok in zip(batch, slots, first):
            req.slot = slot
            self.rows[slot] = req
            self._push(req, tok)

    def _push(self, req: ServeRequest, tok: int) -> None:
        if tok in req.stop_token_ids:
            return self._finish(req, "stop", [tok])
        req.ids.append(tok)
        for s in req.stop_sequences:
            if s and req.ids[-len(s):] == s:
                del req.ids[-len(s):]
                return self._finish(req, "stop", list(s))
        if len(req.ids) >= req.max_new_tokens:
            return self._finish(req, "length")
        safe = len(req.ids) - _held_back(req.ids, req.stop_sequences)
        if safe > req.sent:
            req.on_tokens(req.ids[req.sent:safe])
            req.sent = safe

    def _finish(self, req: ServeRequest, reason: str, stop_ids: Optional[List[int]] = None) -> None:
        req.finished = True
        if len(req.ids) > req.sent:
            req.on_tokens(req.ids[req.sent:])
            req.sent = len(req.ids)
        if req.slot >= 0 and self.rows[req.slot] is req:
            self.rows[req.slot] = None
            self.cache.free(req.slot)
            self.adapters[req.slot] = 0
        req.on_done({"ids": req.ids, "finish_reason": reason, "stop_ids": stop_ids or [],
                     "prompt_tokens": len(req.prompt), "completion_tokens": len(req.ids)})
