"""Batched, KV-cached generation and a cache of loaded models for repeated `generate` requests.

Prompts of different lengths are left-padded into one batch; padding gets segment 0, so it is masked out of every
attention row (also during decoding, the KV cache remembers segments), and each sequence gets its own positions
0..L_i-1, so a batched prompt produces the same tokens as the prompt alone. Decoding runs on a static KV cache,
one CUDA graph replay per step where available (models/decode_step.py).

With `allowed_sequences` (constrain.py), every row may only produce one of those token sequences (e.g. a label).

Sampling with temperature > 0 draws for the whole batch at every step, finished rows included, so a row's tokens
depend on the batch it is in (as before), but no longer on when the other rows stopped.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import torch

from .constrain import ConstrainedRows, SequenceTrie, validate_allowed_sequences
from .errors import WorkerError
from .models.decode_step import acquire_runner
from .models.llama import CausalLM


@dataclass
class GenerationOutput:
    ids: List[int]                      # new tokens, without the matched stop token / stop sequence
    finish_reason: str                  # "stop" | "length"
    stop_ids: List[int] = field(default_factory=list)  # the stop token or sequence that ended it ([] if none)

    def to_json(self) -> dict:
        return {"ids": self.ids, "finish_reason": self.finish_reason, "stop_ids": self.stop_ids}


def _validate(prompts, max_new_tokens, temperature, top_p, vocab_size, allowed_sequences=None):
    problems = [] if allowed_sequences is None else validate_allowed_sequences(allowed_sequences, vocab_size)
    if not prompts:
        problems.append("prompts is empty")
    for i, p in enumerate(prompts):
        if len(p) == 0:
            problems.append(f"prompts[{i}] is empty (a prompt needs at least one token, e.g. BOS)")
        elif min(p) < 0 or max(p) >= vocab_size:
            problems.append(f"prompts[{i}] has token ids outside [0, {vocab_size})")
    if max_new_tokens < 0:
        problems.append(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    if temperature < 0:
        problems.append(f"temperature must be >= 0, got {temperature}")
    if not 0 < top_p <= 1:
        problems.append(f"top_p must be in (0, 1], got {top_p}")
    if problems:
        raise WorkerError("WORKER_INVALID_REQUEST", "invalid generate request: " + "; ".join(problems),
                          "send non-empty prompts of valid token ids, max_new_tokens >= 0, temperature >= 0, "
                          "0 < top_p <= 1 and (if any) non-empty allowed_sequences of valid token ids")


def sample_next(logits: torch.Tensor, temperature: float, top_p: float,
                generator: Optional[torch.Generator]) -> torch.Tensor:
    """logits [B,V] float32 -> next ids [B]. Greedy at temperature 0, else temperature + nucleus (top-p) sampling."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        # Drop a token when the tokens ranked above it already reach top_p (the top token is always kept).
        drop = (sorted_probs.cumsum(dim=-1) - sorted_probs) >= top_p
        sorted_probs = sorted_probs.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def _ends_with(seq: List[int], stops: Sequence[Sequence[int]]) -> Optional[List[int]]:
    for s in stops:
        if s and len(seq) >= len(s) and seq[-len(s):] == list(s):
            return list(s)
    return None


class _Rows:
    """Per-row stop bookkeeping on the host. Every row stays in the batch until all are finished (the decode step
    has fixed shapes); a finished row's further tokens are ignored."""

    def __init__(self, batch: int, max_new_tokens: int, stop_tokens: set, stop_sequences):
        self.max_new_tokens, self.stop_tokens, self.stop_sequences = max_new_tokens, stop_tokens, stop_sequences
        self.new_ids: List[List[int]] = [[] for _ in range(batch)]
        self.done: List[Optional[GenerationOutput]] = [None] * batch
        self.left = batch

    def push(self, tokens: List[int]) -> bool:
        """Take one sampled id per row; True once every row has finished."""
        for i, tok in enumerate(tokens):
            if self.done[i] is not None:
                continue
            ids = self.new_ids[i]
            if tok in self.stop_tokens:
                self.done[i] = GenerationOutput(ids, "stop", [tok])
            else:
                ids.append(tok)
                matched = _ends_with(ids, self.stop_sequences)
                if matched is not None:
                    self.done[i] = GenerationOutput(ids[:-len(matched)], "stop", matched)
                elif len(ids) >= self.max_new_tokens:
                    self.done[i] = GenerationOutput(ids, "length")
            self.left -= self.done[i] is not None
        return self.left == 0

    def outputs(self) -> List[GenerationOutput]:
        return [o if o is not None else GenerationOutput(self.new_ids[i], "length") for i, o in enumerate(self.done)]


class _HostIds:
    """Sampled ids [B] copied to the host without stalling the GPU: on CUDA into pinned memory with an event, so
    the host waits for one step's ids while the next step already runs. Two slots: at most the step being read
    and the one queued after it are in flight."""

    def __init__(self, device: torch.device, batch: int):
        self.cuda = device.type == "cuda"
        self.buf = torch.empty((2, batch), dtype=torch.long, pin_memory=self.cuda)  # [2,B]
        self.events = [torch.cuda.Event(), torch.cuda.Event()] if self.cuda else []

    def put(self, step: int, tokens: torch.Tensor) -> None:
        self.buf[step % 2].copy_(tokens, non_blocking=self.cuda)
        if self.cuda:
            self.events[step % 2].record()

    def get(self, step: int) -> List[int]:
        if self.cuda:
            self.events[step % 2].synchronize()
        return self.buf[step % 2].tolist()


@torch.no_grad()
def generate(model: CausalLM, prompts: List[List[int]], max_new_tokens: int = 64, temperature: float = 0.0,
             top_p: float = 1.0, seed: Optional[int] = None, stop_token_ids: Sequence[int] = (),
             stop_sequences: Sequence[Sequence[int]] = (), pad_token_id: int = 0,
             graphs: bool = True, allowed_sequences: Optional[Sequence[Sequence[int]]] = None) -> List[GenerationOutput]:
    """Generate up to max_new_tokens per prompt (docs/worker-protocol.md `generate`).

    A batched prefill fills a static KV cache, then every decode step runs on fixed shapes: on CUDA (torch >= 2.0)
    as a replayed CUDA graph (`graphs=False`: eagerly, for comparison), elsewhere eagerly; the tokens are the same.
    docs/generation-speed.md has the design and the figures.

    `allowed_sequences`: each row produces only one of these token sequences (or a prefix, if max_new_tokens runs
    out: finish reason "length"); stop_sequences do not apply, stop_token_ids only end a row whose sequence is
    complete (constrain.py)."""
    _validate(prompts, max_new_tokens, temperature, top_p, model.config.vocab_size, allowed_sequences)
    if max_new_tokens == 0:
        return [GenerationOutput([], "length") for _ in prompts]
    was_training = model.training
    model.eval()
    try:
        return _generate(model, prompts, max_new_tokens, temperature, top_p, seed, stop_token_ids, stop_sequences,
                         pad_token_id, graphs, allowed_sequences)
    finally:
        model.train(was_training)


def _generate(model, prompts, max_new_tokens, temperature, top_p, seed, stop_token_ids, stop_sequences,
              pad_token_id, graphs, allowed_sequences=None) -> List[GenerationOutput]:
    device = model.model.embed_tokens.weight.device
    generator = None
    if temperature > 0:
        generator = torch.Generator(device=device)
        generator.manual_seed(0 if seed is None else int(seed))
    B = len(prompts)
    lengths = [len(p) for p in prompts]
    L = max(lengths)
    ids = torch.full((B, L), pad_token_id, dtype=torch.long)
    segments = torch.zeros((B, L), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, L - len(p):] = torch.tensor(p, dtype=torch.long)
        segments[i, L - len(p):] = 1

    runner = acquire_runner(model, B, L + max_new_tokens, graphs)
    logits = runner.prefill(model, ids.to(device), segments.to(device), torch.tensor(lengths, device=device))
    if allowed_sequences is not None:
        return _decode_constrained(model, runner, logits, SequenceTrie(allowed_sequences), max_new_tokens,
                                   temperature, top_p, generator, [int(t) for t in stop_token_ids])
    rows = _Rows(B, max_new_tokens, set(int(t) for t in stop_token_ids), stop_sequences)
    host = _HostIds(device, B)
    tokens = sample_next(logits, temperature, top_p, generator)  # [B]
    for step in range(max_new_tokens):
        host.put(step, tokens)
        if step + 1 < max_new_tokens:
            # Queue the next step before reading this one's ids: the GPU decodes while the host checks stops.
            # (When every row has finished, that one queued step is wasted; the tokens are unaffected.)
            tokens = sample_next(runner.decode(model, tokens), temperature, top_p, generator)
        if rows.push(host.get(step)):
            break
    return rows.outputs()


def _decode_constrained(model, runner, logits, trie, max_new_tokens, temperature, top_p, generator,
                        stop_tokens) -> List[GenerationOutput]:
    """The decode loop of a constrained request, on the same runner as any other: eager, or replayed CUDA graph.
    The mask is added to the step's logits outside the graph (out of place, the graph's static output stays
    intact), so the graph path needs no change; what it gives up is the overlap of the next step with the host's
    reading of this one, since the next mask depends on this step's ids. Label-length outputs make that cheap."""
    device = logits.device
    rows = ConstrainedRows(trie, logits.shape[0], max_new_tokens, stop_tokens, logits.shape[-1], device)
    for step in range(max_new_tokens):
        tokens = sample_next(rows.apply(logits), temperature, top_p, generator)  # [B]
        if rows.push(tokens.tolist()) or step + 1 == max_new_tokens:
            break
        logits = runner.decode(model, tokens)
    return [GenerationOutput(ids, reason, stop_ids) for ids, reason, stop_ids in rows.results()]


class ModelCache:
    """Keeps the most recently used models loaded (LRU, `capacity` entries) so repeated generate/score calls with
    the same model_dir/adapter_dir skip loading. Adapters are merged into the weights for inference speed."""

    def __init__(self, capacity: int = 1):
        self.capacity = capacity
        self._models: "OrderedDict[tuple, CausalLM]" = OrderedDict()
        self._lock = threading.Lock()

    def get(self, model_dir: str, adapter_dir: Optional[str] = None, device="cpu",
            dtype: torch.dtype = torch.float32) -> CausalLM:
        from .lora import load_peft_adapter, merge_lora
        from .models.loading import load_model

        key = (model_dir, adapter_dir, str(device), str(dtype))
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            while len(self._models) >= self.capacity:  # free memory before loading the next model
                self._models.popitem(last=False)
            model = load_model(model_dir, device=device, dtype=dtype)
            if adapter_dir:
                load_peft_adapter(model, adapter_dir)
                merge_lora(model)
            self._models[key] = model
            return model

    def clear(self) -> None:
        with self._lock:
            self._models.clear()
