"""Masked next-token loss over packed sequences, chunked so [B, T, V] logits never exist at once.

Only positions whose target is trained (mask = 1) get logits at all: hidden states are gathered to [N, H] and
the vocabulary projection + cross-entropy run over chunks of those N tokens. With grad enabled the gradient of
each chunk (softmax - onehot, projected back through the head) is computed right after its loss, in the forward
pass (a fused linear + cross-entropy): no chunk's [chunk, V] logits are kept, and none is recomputed in backward
(the former per-chunk checkpoint ran the vocabulary projection twice, ~12% of a 0.5B model's step).
"""

from typing import Tuple

import torch
import torch.nn.functional as F

# Logit elements per chunk (float32): 2**25 elements = 128 MiB, e.g. 221 tokens of a 151,936-token vocabulary.
# On a GPU larger chunks (2**27 = 512 MiB, 883 tokens) keep the head matmul and the softmax passes efficient.
CHUNK_ELEMENTS = 1 << 25
CHUNK_ELEMENTS_GPU = 1 << 27


def _ce_sum(model, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    logits = model.logits(hidden.unsqueeze(0))[0]  # [n, V] float32
    return F.cross_entropy(logits.float(), targets, reduction="sum")


def _ce_grad_eager(logits: torch.Tensor, targets: torch.Tensor):
    """logits [n, V] (weight dtype), targets [n] -> (sum of CE as float32, d/dlogits [n, V] in logits' dtype).

    log_softmax + nll_loss is exactly F.cross_entropy, so the value matches the unfused loss bit for bit."""
    logp = F.log_softmax(logits.float(), dim=-1)                      # [n, V] float32
    loss = F.nll_loss(logp, targets, reduction="sum")
    g = logp.exp_()                                                   # softmax, in place
    g[torch.arange(targets.shape[0], device=targets.device), targets] -= 1.0
    return loss, g.to(logits.dtype)


def _ce_grad_fusable(logits: torch.Tensor, targets: torch.Tensor):
    """The same as _ce_grad_eager written for torch.compile: one reduction pass and one elementwise pass over the
    bf16 logits, no float32 [n, V] copies (eager: upcast, log_softmax, exp, cast = ~8 passes, ~25 ms a step on a
    151,936-token vocabulary at 16k tokens)."""
    x = logits.float()
    lse = torch.logsumexp(x, dim=-1)                                  # [n]
    loss = (lse - x.gather(1, targets[:, None])[:, 0]).sum()
    p = torch.exp(x - lse[:, None])
    hit = torch.arange(x.shape[1], device=x.device)[None, :] == targets[:, None]
    return loss, torch.where(hit, p - 1.0, p).to(logits.dtype)


_COMPILED = {"fn": None, "failed": False, "enabled": True}


def set_loss_compile(enabled: bool) -> None:
    """The train param `compile` (resolved) also decides whether the loss's softmax pass is compiled."""
    _COMPILED["enabled"] = bool(enabled)


def _ce_grad(logits: torch.Tensor, targets: torch.Tensor):
    """Compiled on CUDA (torch >= 2.2) unless disabled, eager elsewhere or if compiling fails (then eager for the
    process)."""
    if logits.is_cuda and _COMPILED["enabled"] and not _COMPILED["failed"] and hasattr(torch.nn.Module, "compile"):
        try:
            if _COMPILED["fn"] is None:
                _COMPILED["fn"] = torch.compile(_ce_grad_fusable, dynamic=True)
            return _COMPILED["fn"](logits, targets)
        except Exception:  # a compiler problem must not stop training: the eager path is the same function
            _COMPILED["failed"] = True
    return _ce_grad_eager(logits, targets)


class _FusedLinearCE(torch.autograd.Function):
    """sum_i CE(h_i W^T, t_i) over chunks; d/dh and d/dW are computed in forward, chunk by chunk.

    h [N,H], weight [V,H], targets [N]. Logits are computed in the weight dtype and upcast to float32 (as
    model.logits); the gradient of a chunk is softmax - onehot in float32, cast to h's dtype for the matmuls."""

    @staticmethod
    def forward(ctx, h, weight, targets, chunk: int):
        need_h, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        total = torch.zeros((), dtype=torch.float32, device=h.device)
        grad_h = torch.empty_like(h) if need_h else None
        grad_w = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device) if need_w else None
        for i in range(0, h.shape[0], chunk):
            hc, tc = h[i:i + chunk], targets[i:i + chunk]
            loss, g = _ce_grad(F.linear(hc, weight), tc)                 # g: [n, V] in the weight dtype
            total = total + loss
            g = g.to(h.dtype)
            if need_h:
                grad_h[i:i + chunk] = g @ weight.to(h.dtype)          # [n, H]
            if need_w:
                grad_w += (g.t() @ hc).float()                        # [V, H]
        ctx.grads, ctx.weight_dtype = (grad_h, grad_w), weight.dtype  # intermediates, not inputs: kept on ctx
        return total

    @staticmethod
    def backward(ctx, grad_out):
        grad_h, grad_w = ctx.grads
        ctx.grads = None
        gh = grad_h * grad_out.to(grad_h.dtype) if grad_h is not None else None
        gw = (grad_w * grad_out).to(ctx.weight_dtype) if grad_w is not None else None
        return gh, gw, None, None


def _head_weight(model) -> torch.Tensor:
    return model.model.embed_tokens.weight if model.lm_head is None else model.lm_head.weight


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
    per_chunk = CHUNK_ELEMENTS if hidden.device.type == "cpu" else CHUNK_ELEMENTS_GPU
    chunk = chunk_tokens or max(1, per_chunk // vocab)
    weight = _head_weight(model)
    if torch.is_grad_enabled() and (h.requires_grad or weight.requires_grad):
        return _FusedLinearCE.apply(h, weight, targets, chunk), n
    total = torch.zeros((), dtype=torch.float32, device=hidden.device)
    for i in range(0, n, chunk):
        total = total + _ce_sum(model, h[i:i + chunk], targets[i:i + chunk])
    return total, n


class LossModule(torch.nn.Module):
    """model + loss in one forward, so DistributedDataParallel sees (and syncs) every trainable parameter."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, mask, segments, positions, chunk_tokens: int = 0):
        hidden = self.model(tokens, position_ids=positions, segment_ids=segments)  # [B, T, H]
        return masked_loss_sum(self.model, hidden, tokens, mask, chunk_tokens)
