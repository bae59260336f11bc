"""The preference recipe's step and evaluation (objective dpo / orpo), over paired rows (layout "pairs").

The loop is train.py's: only the step and the validation differ. A micro-batch is `batch_size` pairs (2 x rows);
the loss is the mean over the pairs of the global batch. Every step reports loss, rewards/chosen,
rewards/rejected, rewards/margin and rewards/accuracy (train/… and, at each evaluation, val/…).
"""

import math
import time
from contextlib import nullcontext
from typing import Dict, List

import torch

from .errors import WorkerError
from .models.attention import positions_from_segments
from .preference_loss import dpo_loss, orpo_loss, split_pairs

METRICS = ("loss", "rewards/chosen", "rewards/rejected", "rewards/margin", "rewards/accuracy")


def pair_rows(pairs: List[int]) -> List[int]:
    """Pair indices -> their rows: chosen 2i, rejected 2i+1."""
    return [r for i in pairs for r in (2 * i, 2 * i + 1)]


def _pair_losses(state, b: dict, pairs: List[int], split: str):
    """Per-pair losses [P] and rewards for one batch of rows, under the run's objective."""
    p = state.params
    logps, counts = state.loss_module(b["tokens"], b["mask"], b["segments"], positions_from_segments(b["segments"]))
    pc, pr = split_pairs(logps)
    if p.objective == "orpo":
        cc, cr = split_pairs(counts)
        return orpo_loss(pc, pr, cc, cr, p.orpo.beta)
    ref = state.reference.get(split) if state.reference else None
    if ref is None:  # reference_free
        zeros = torch.zeros_like(pc)
        return dpo_loss(pc, pr, zeros, zeros, p.dpo.beta, reference_free=True)
    idx = torch.tensor(pairs, dtype=torch.int64)
    r = ref.index_select(0, idx).to(pc.device)  # [P, 2]
    return dpo_loss(pc, pr, r[:, 0], r[:, 1], p.dpo.beta, reference_free=p.dpo.reference_free)


def _sums(losses: torch.Tensor, rewards: Dict[str, torch.Tensor]) -> torch.Tensor:
    """[pairs, loss sum, chosen sum, rejected sum, margin sum, correct] in float64, for all-reduce."""
    c, r = rewards["rewards_chosen"].double(), rewards["rewards_rejected"].double()
    return torch.stack([torch.tensor(float(losses.numel()), dtype=torch.float64, device=c.device),
                        losses.detach().double().sum(), c.sum(), r.sum(), (c - r).sum(), (c > r).double().sum()])


def _means(totals: torch.Tensor) -> Dict[str, float]:
    n = max(1.0, float(totals[0]))
    return dict(zip(METRICS, (float(x) / n for x in totals[1:])))


def preference_step(state) -> None:
    """One optimizer step over grad_accum micro-batches of pairs; reports progress and train/… metrics."""
    p, par, device, prog = state.params, state.par, state.device, state.progress
    t_step = time.time()
    batches = [state.sampler.next_batch() for _ in range(p.grad_accum)]
    micro = [state.train_split.rows(pair_rows(pairs)) for pairs in batches]
    top = max(int(b["tokens"].max()) for b in micro)
    if top >= state.vocab:
        raise WorkerError("WORKER_BAD_SHARDS", f"token id {top} in {p.data_dir} is outside the model's "
                          f"vocabulary of {state.vocab}", "compile the data with this model's tokenizer")
    tokens = sum(int((b["segments"] != 0).sum()) for b in micro)
    total_pairs = torch.tensor([float(sum(len(x) for x in batches))], dtype=torch.float64, device=device)
    par.all_reduce(total_pairs)
    totals = torch.zeros(6, dtype=torch.float64, device=device)
    for i, (pairs, b) in enumerate(zip(batches, micro)):
        b = {k: v.to(device, non_blocking=True) for k, v in b.items()}
        sync = par.no_sync(state.loss_module) if i < len(micro) - 1 else nullcontext()
        with sync:
            losses, rewards = _pair_losses(state, b, pairs, "train")
            # DDP averages grads over ranks; scaling by world_size makes it the mean over the global batch's pairs.
            (losses.sum() * (par.world_size / float(total_pairs[0]))).backward()
        totals += _sums(losses, rewards)
    grad_norm = torch.nn.utils.clip_grad_norm_(state.trainable_params, p.max_grad_norm or float("inf"))
    lr = state.optimizer.param_groups[0]["lr"]
    state.optimizer.step()
    state.scheduler.step()
    state.optimizer.zero_grad(set_to_none=True)
    par.all_reduce(totals)
    means = _means(totals)
    prog.step += 1
    prog.tokens_trained += tokens
    prog.last_train_loss = means["loss"]
    prog.history.append({"step": prog.step, "name": "train/loss", "value": means["loss"]})
    clock = state.throughput
    clock.tokens += tokens
    clock.seconds += time.time() - t_step
    step = prog.step
    if step % p.log_every == 0 or step == state.total_steps:
        tps = clock.tokens / max(clock.seconds, 1e-9)
        eta = (state.total_steps - step) * clock.seconds / max(1, step - clock.start_step)
        state.say({"event": "progress", "step": step, "total_steps": state.total_steps,
                   "epoch": round(state.sampler.progress(), 4), "loss": means["loss"], "lr": lr,
                   "tokens_per_s": round(tps, 1), "eta_s": round(eta, 1)})
        extra = (("lr", lr), ("grad_norm", float(grad_norm)), ("tokens_per_s", tps))
        for name, value in [*means.items(), *extra]:
            state.say({"event": "metric", "step": step, "name": f"train/{name}", "value": value})


def evaluate_pairs(state) -> Dict[str, float]:
    """Means over the val pairs (or the first eval.max_batches batches): loss and the reward metrics, all ranks."""
    p, par, device = state.params, state.par, state.device
    model = state.model
    was_training = model.training
    model.eval()
    pairs = list(range(state.val_split.sequences // 2))
    batches = [pairs[i:i + p.batch_size] for i in range(0, len(pairs), p.batch_size)]
    batches = batches[:p.eval.max_batches] if p.eval.max_batches else batches
    totals = torch.zeros(6, dtype=torch.float64, device=device)
    with torch.no_grad():
        for batch in batches[par.rank::par.world_size]:
            b = {k: v.to(device) for k, v in state.val_split.rows(pair_rows(batch)).items()}
            losses, rewards = _pair_losses(state, b, batch, "val")
            totals += _sums(losses, rewards)
    par.all_reduce(totals)
    model.train(was_training)
    return _means(totals) if totals[0] > 0 else {name: math.nan for name in METRICS}
