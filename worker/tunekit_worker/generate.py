"""Batched, KV-cached generation and a cache of loaded models for repeated `generate` requests.

Prompts of different lengths are left-padded into one batch; padding gets segment 0, so it is masked out of every
attention row (also during decoding, the KV cache remembers segments), and each sequence gets its own positions
0..L_i-1, so a batched prompt produces the same tokens as the prompt alone.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import torch

from .errors import WorkerError
from .models.kv_cache import KVCache
from .models.llama import CausalLM, positions_from_segments


@dataclass
class GenerationOutput:
    ids: List[int]                      # new tokens, without the matched stop token / stop sequence
    finish_reason: str                  # "stop" | "length"
    stop_ids: List[int] = field(default_factory=list)  # the stop token or sequence that ended it ([] if none)

    def to_json(self) -> dict:
        return {"ids": self.ids, "finish_reason": self.finish_reason, "stop_ids": self.stop_ids}


def _validate(prompts, max_new_tokens, temperature, top_p, vocab_size):
    problems = []
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
                          "send non-empty prompts of valid token ids, max_new_tokens >= 0, temperature >= 0 "
                          "and 0 < top_p <= 1")


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


@torch.no_grad()
def generate(model: CausalLM, prompts: List[List[int]], max_new_tokens: int = 64, temperature: float = 0.0,
             top_p: float = 1.0, seed: Optional[int] = None, stop_token_ids: Sequence[int] = (),
             stop_sequences: Sequence[Sequence[int]] = (), pad_token_id: int = 0) -> List[GenerationOutput]:
    _validate(prompts, max_new_tokens, temperature, top_p, model.config.vocab_size)
    was_training = model.training
    model.eval()
    device = model.model.embed_tokens.weight.device
    generator = None
    if temperature > 0:
        generator = torch.Generator(device=device)
        generator.manual_seed(0 if seed is None else int(seed))
    stop_tokens = set(int(t) for t in stop_token_ids)
    B = len(prompts)
    lengths = [len(p) for p in prompts]
    L = max(lengths)
    ids = torch.full((B, L), pad_token_id, dtype=torch.long)
    segments = torch.zeros((B, L), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, L - len(p):] = torch.tensor(p, dtype=torch.long)
        segments[i, L - len(p):] = 1
    ids, segments = ids.to(device), segments.to(device)
    outputs: List[Optional[GenerationOutput]] = [None] * B
    new_ids: List[List[int]] = [[] for _ in range(B)]
    if max_new_tokens == 0:
        return [GenerationOutput([], "length") for _ in range(B)]

    cache = KVCache(len(model.model.layers), capacity=L + max_new_tokens)
    hidden = model(ids, positions_from_segments(segments), segments, cache)  # [B,L,H]
    logits = model.logits(hidden[:, -1])                                      # [B,V]
    active = list(range(B))  # original indices of the rows still in the batch
    next_pos = torch.tensor(lengths, dtype=torch.long, device=device)
    for step in range(max_new_tokens):
        tokens = sample_next(logits, temperature, top_p, generator).tolist()
        keep = []
        for row, (i, tok) in enumerate(zip(active, tokens)):
            if tok in stop_tokens:
                outputs[i] = GenerationOutput(new_ids[i], "stop", [tok])
                continue
            new_ids[i].append(tok)
            matched = _ends_with(new_ids[i], stop_sequences)
            if matched is not None:
                outputs[i] = GenerationOutput(new_ids[i][:-len(matched)], "stop", matched)
            elif len(new_ids[i]) >= max_new_tokens:
                outputs[i] = GenerationOutput(new_ids[i], "length")
            else:
                keep.append(row)
        if not keep:
            break
        if len(keep) < len(active):  # drop finished rows so they cost nothing in later steps
            cache.select_rows(torch.tensor(keep, device=device))
            next_pos = next_pos[keep]
            active = [active[r] for r in keep]
        step_ids = torch.tensor([[new_ids[i][-1]] for i in active], dtype=torch.long, device=device)  # [b,1]
        hidden = model(step_ids, next_pos[:, None], torch.ones_like(step_ids), cache)
        logits = model.logits(hidden[:, -1])
        next_pos = next_pos + 1
    model.train(was_training)
    return [o if o is not None else GenerationOutput(new_ids[i], "length") for i, o in enumerate(outputs)]


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
        from .models.llama import load_model

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
