"""Decoding constrained to a set of token sequences (e.g. the tokenized labels of a classification task).

The allowed sequences form a prefix trie; at every step a row may only pick a child of the node it is at, so it
can only ever produce a prefix of an allowed sequence. A row ends when it has produced a full sequence: at once
when no longer sequence continues it, or, when one does (labels "card" and "card_arrival"), when it picks a stop
token there (with no stop tokens given, the shorter sequence ends it: there is no other way to choose it).
"""

from typing import Dict, List, Optional, Sequence

import torch

from .errors import WorkerError


class SequenceTrie:
    """Nodes are ints; node 0 is the root (nothing produced yet)."""

    def __init__(self, sequences: Sequence[Sequence[int]]):
        self.children: List[Dict[int, int]] = [{}]
        self.terminal: List[bool] = [False]
        for seq in sequences:
            node = 0
            for tok in seq:
                nxt = self.children[node].get(int(tok))
                if nxt is None:
                    nxt = len(self.children)
                    self.children[node][int(tok)] = nxt
                    self.children.append({})
                    self.terminal.append(False)
                node = nxt
            self.terminal[node] = True

    def step(self, node: int, token: int) -> Optional[int]:
        """The node after `token`, or None when `token` does not continue any allowed sequence."""
        return self.children[node].get(token)

    def allowed(self, node: int, stop_tokens: Sequence[int]) -> List[int]:
        """Token ids a row at `node` may pick next: its children, plus the stop tokens where a sequence is complete."""
        out = sorted(self.children[node])
        if self.terminal[node]:
            out += [t for t in stop_tokens if t not in self.children[node]]
        return out

    def finished(self, node: int, stop_tokens: Sequence[int]) -> bool:
        """True when a row at `node` is done without picking anything more."""
        return self.terminal[node] and (not self.children[node] or not stop_tokens)


def validate_allowed_sequences(sequences, vocab_size: int) -> List[str]:
    problems = []
    if not sequences:
        problems.append("allowed_sequences is empty (send at least one token id list, or leave it out)")
    for i, s in enumerate(sequences or []):
        if len(s) == 0:
            problems.append(f"allowed_sequences[{i}] is empty")
        elif min(s) < 0 or max(s) >= vocab_size:
            problems.append(f"allowed_sequences[{i}] has token ids outside [0, {vocab_size})")
    return problems


class ConstrainedRows:
    """Per-row trie state on the host and the logits mask it implies. The mask of step t depends on the ids of step
    t-1, so constrained decoding reads every step's ids before queueing the next (no host/device overlap)."""

    def __init__(self, trie: SequenceTrie, batch: int, max_new_tokens: int, stop_tokens: Sequence[int],
                 vocab_size: int, device: torch.device):
        self.trie, self.max_new_tokens, self.stop_tokens = trie, max_new_tokens, list(stop_tokens)
        self.vocab_size, self.device = vocab_size, device
        self.nodes = [0] * batch
        self.new_ids: List[List[int]] = [[] for _ in range(batch)]
        self.done: List[Optional[tuple]] = [None] * batch  # (finish_reason, stop_ids)
        self._masks: Dict[int, torch.Tensor] = {}  # node -> additive mask [V] (0 allowed, -inf not)

    def _mask_for(self, node: int) -> torch.Tensor:
        mask = self._masks.get(node)
        if mask is None:
            mask = torch.full((self.vocab_size,), float("-inf"))
            mask[self.trie.allowed(node, self.stop_tokens)] = 0.0
            mask = self._masks[node] = mask.to(self.device)
        return mask

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        """logits [B,V] float32 -> the same with disallowed ids at -inf (a new tensor: a CUDA graph's static output
        is left untouched). Finished rows keep any id: their tokens are ignored."""
        zero = torch.zeros((self.vocab_size,), device=logits.device)
        mask = torch.stack([zero if self.done[i] is not None else self._mask_for(n) for i, n in enumerate(self.nodes)])
        return logits + mask

    def push(self, tokens: List[int]) -> bool:
        """Take one sampled id per row; True once every row has finished."""
        for i, tok in enumerate(tokens):
            if self.done[i] is not None:
                continue
            node = self.nodes[i]
            if self.trie.terminal[node] and tok in self.stop_tokens and tok not in self.trie.children[node]:
                self.done[i] = ("stop", [tok])
                continue
            nxt = self.trie.step(node, tok)
            assert nxt is not None, f"constrained decoding picked {tok}, not allowed after {self.new_ids[i]}"
            self.nodes[i] = nxt
            self.new_ids[i].append(tok)
            if self.trie.finished(nxt, self.stop_tokens):
                self.done[i] = ("stop", [])
            elif len(self.new_ids[i]) >= self.max_new_tokens:
                self.done[i] = ("length", [])
        return all(d is not None for d in self.done)

    def results(self):
        return [(self.new_ids[i], *(d if d is not None else ("length", []))) for i, d in enumerate(self.done)]


def raise_if_invalid(problems: List[str]) -> None:
    if problems:
        raise WorkerError("WORKER_INVALID_REQUEST", "invalid generate request: " + "; ".join(problems),
                          "send allowed_sequences as non-empty lists of valid token ids of this model")
