"""Masked next-token loss over packed sequences, chunked so [B, T, V] logits never exist at once.

Only positions whose target is trained (mask = 1) get logits at all: hidden states are gathered to [N, H] and
the vocabulary projection + cross-entropy run over chunks of those N tokens. With grad enabled each chunk is
checkpointed, so backward recomputes its logits instead of keeping every chunk's [chunk, V] softmax alive.
"""

from typing import Tuple

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

# Logit elements per chunk (float32): 2**25 elements = 128 MiB, e.g. 221 tokens of a 151,936-token vocabulary.
CHUNK_ELEMENTS = 1 << 25


def _ce_sum(model, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    logits = model.logits(hidden.unsqueeze(0))[0]  # [n, V] float32
    return F.cross_entropy(logits.float(), targets, reduction="sum")


def masked_loss_sum(model, hidden: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor,
                    chunk_tokens: int = 0) -> Tuple[torch.Tensor, int]:
    """(sum of -log p(target) over trained targets as a float32 scalar, number of trained targets).

    hidden [B, T, H] from the model; tokens, mask [B, T]. Logits at t-1 predict token t where mask[t] = 1.
    """
    B, T, H = hidden.shape
    assert tokens.shape == mask.shape == (B, T), f"tokens/mask {tuple(tokens.shape)} do not match hidden {(B, T)}"
    selected = mask[:, 1:].reshape(-1).nonzero().squeeze(1)  # [N] flat indices into [B, T-1]
    n = int(selected.numel())
    if n == 0:
        return hidden.sum() * 0.0, 0  # keeps the graph connected (DDP expects every parameter to get a grad)
    h = hidden[:, :-1].reshape(-1, H).index_select(0, selected)  # [N, H]
    targets = tokens[:, 1:].reshape(-1).index_select(0, selected)  # [N]
    vocab = int(model.config.vocab_size)
    chunk = chunk_tokens or max(1, CHUNK_ELEMENTS // vocab)
    total = torch.zeros((), dtype=torch.float32, device=hidden.device)
    for i in range(0, n, chunk):
        hc, tc = h[i:i + chunk], targets[i:i + chunk]
        if n > chunk and torch.is_grad_enabled() and hc.requires_grad:
            total = total + checkpoint(_ce_sum, model, hc, tc, use_reentrant=False)
        else:
            total = total + _ce_sum(model, hc, tc)
    return total, n


class LossModule(torch.nn.Module):
    """model + loss in one forward, so DistributedDataParallel sees (and syncs) every trainable parameter."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, mask, segments, positions, chunk_tokens: int = 0):
        hidden = self.model(tokens, position_ids=positions, segment_ids=segments)  # [B, T, H]
        return masked_loss_sum(self.model, hidden, tokens, mask, chunk_tokens)
