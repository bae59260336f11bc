"""The training recipe: LoRA or full fine-tuning over compiled shards, with eval, early stopping and checkpoints.

`run_training(params, emit)` runs one `train` request (docs/worker-protocol.md) and returns the `done` result;
`emit(event_dict)` receives progress / metric / checkpoint / log events (the protocol adds the request id).
Under torchrun (WORLD_SIZE > 1) every rank runs this; only rank 0 emits events and writes files.

The shape is torchtune's recipe: `setup` (train_state.py) builds one typed TrainState, then a short loop of
train_step, maybe_eval, maybe_stop and maybe_checkpoint over it. Every rank makes the same collective calls in
the same order (all-reduces in the step and eval, the stop-flag vote, the gathers of a sharded checkpoint).
"""

import math
import signal
import time
from contextlib import nullcontext
from dataclasses import asdict
from typing import Callable, Optional

import torch

from . import checkpoint as ckpt
from .errors import WorkerError
from .export import export_final
from .loss import LossModule
from .models.attention import positions_from_segments
from .parallel import Parallel
from .preference_train import evaluate_pairs, preference_step
from .sharded_state import full_optimizer_state, full_trainable_state, is_sharded
from .train_params import parse_train_params
from .train_state import TrainState, build_optimizer, compile_layers, seed_everything, setup

__all__ = ["run_training", "evaluate", "build_optimizer", "compile_layers", "seed_everything"]


class Interrupt:
    """SIGINT sets a flag; the loop finishes its step, checkpoints and stops. Restores the old handler on exit."""

    def __init__(self):
        self.requested = False
        self._old = None

    def __enter__(self):
        try:
            self._old = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: no signal handling
            self._old = None
        return self

    def _handle(self, signum, frame):
        self.requested = True

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def _to_device(batch: dict, device) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def evaluate(loss_module: LossModule, split, batch_size: int, max_batches: Optional[int], device,
             par: Parallel) -> float:
    """Mean loss over every trained token of the val split (or its first max_batches batches), all ranks."""
    model = loss_module.model
    was_training = model.training
    model.eval()
    indices = list(range(split.sequences))
    batches = [indices[i:i + batch_size] for i in range(0, len(indices), batch_size)]
    batches = batches[:max_batches] if max_batches else batches
    total = torch.zeros(2, dtype=torch.float64, device=device)  # [loss sum, tokens]
    mine = batches[par.rank::par.world_size]
    # FSDP: every forward all-gathers with the other ranks, so all ranks run the same number of forwards; a rank
    # short of batches repeats one and does not count it.
    rounds = math.ceil(len(batches) / par.world_size) if par.sharded else len(mine)
    with torch.no_grad():
        for r in range(rounds):
            b = _to_device(split.rows(mine[r] if r < len(mine) else batches[0]), device)
            loss_sum, n = loss_module(b["tokens"], b["mask"], b["segments"], positions_from_segments(b["segments"]))
            if r < len(mine):
                total += torch.tensor([float(loss_sum), n], dtype=torch.float64, device=device)
    par.all_reduce(total)
    model.train(was_training)
    return float(total[0] / total[1]) if total[1] > 0 else float("nan")


def run_training(raw_params: dict, emit: Callable[[dict], None]) -> dict:
    state = setup(parse_train_params(raw_params), emit)
    step_once = preference_step if state.params.objective != "sft" else train_step
    with Interrupt() as interrupt:
        for _ in range(state.progress.step, state.total_steps):
            step_once(state)
            saved = maybe_eval(state)
            maybe_stop(state, interrupt)
            maybe_checkpoint(state, saved)
            if state.stopped != "completed":
                break
    return finish(state)


def train_step(state: TrainState) -> None:
    """One optimizer step over grad_accum micro-batches; the loss is the mean over every trained token of the
    whole (global) batch. Reports progress and train metrics every log_every steps."""
    p, par, device, prog = state.params, state.par, state.device, state.progress
    t_step = time.time()
    micro = [state.train_split.rows(state.sampler.next_batch()) for _ in range(p.grad_accum)]
    # Counted and checked on the host copies (no device syncs), then moved.
    counts = torch.tensor([float(sum(int(b["mask"][:, 1:].sum()) for b in micro)),
                           float(sum(int((b["segments"] != 0).sum()) for b in micro))],
                          dtype=torch.float64, device=device)
    top = max(int(b["tokens"].max()) for b in micro)
    micro = [_to_device(b, device) for b in micro]
    if top >= state.vocab:
        raise WorkerError("WORKER_BAD_SHARDS", f"token id {top} in {p.data_dir} is outside the model's "
                          f"vocabulary of {state.vocab}", "compile the data with this model's tokenizer")
    par.all_reduce(counts)
    target_tokens = max(1.0, float(counts[0]))
    loss_total = 0.0
    for i, b in enumerate(micro):
        sync = par.no_sync(state.loss_module) if i < len(micro) - 1 else nullcontext()
        with sync:
            loss_sum, _ = state.loss_module(b["tokens"], b["mask"], b["segments"],
                                            positions_from_segments(b["segments"]))
            # DDP averages grads over ranks; scaling by world_size makes it the global token mean.
            (loss_sum * (par.world_size / target_tokens)).backward()
        loss_total += float(loss_sum.detach())
    grad_norm = torch.nn.utils.clip_grad_norm_(state.trainable_params, p.max_grad_norm or float("inf"))
    if is_sharded(grad_norm):  # FSDP: the norm over all shards, the same on every rank
        grad_norm = grad_norm.full_tensor()
    lr = state.optimizer.param_groups[0]["lr"]
    state.optimizer.step()
    state.scheduler.step()
    state.optimizer.zero_grad(set_to_none=True)
    loss_t = torch.tensor([loss_total], dtype=torch.float64, device=device)
    par.all_reduce(loss_t)
    train_loss = float(loss_t[0]) / target_tokens
    prog.step += 1
    prog.tokens_trained += int(counts[1])
    prog.last_train_loss = train_loss
    prog.history.append({"step": prog.step, "name": "train/loss", "value": train_loss})
    step, clock = prog.step, state.throughput
    clock.tokens += int(counts[1])
    clock.seconds += time.time() - t_step
    if step % p.log_every == 0 or step == state.total_steps:
        tps = clock.tokens / max(clock.seconds, 1e-9)
        eta = (state.total_steps - step) * clock.seconds / max(1, step - clock.start_step)
        state.say({"event": "progress", "step": step, "total_steps": state.total_steps,
                   "epoch": round(state.sampler.progress(), 4), "loss": train_loss, "lr": lr,
                   "tokens_per_s": round(tps, 1), "eta_s": round(eta, 1)})
        for name, value in (("train/loss", train_loss), ("train/lr", lr),
                            ("train/grad_norm", float(grad_norm)), ("train/tokens_per_s", tps)):
            state.say({"event": "metric", "step": step, "name": name, "value": value})


def maybe_eval(state: TrainState) -> bool:
    """Validation every eval.every_steps and after the last step; a new best is checkpointed and copied to best/.
    Returns whether this step was checkpointed."""
    p, prog, step = state.params, state.progress, state.progress.step
    every = p.eval.every_steps
    if state.val_split is None or not ((every and step % every == 0) or step == state.total_steps):
        return False
    if p.objective != "sft":
        metrics = evaluate_pairs(state)
        val = metrics["loss"]
        for name, value in metrics.items():
            if name != "loss":
                state.say({"event": "metric", "step": step, "name": f"val/{name}", "value": value})
    else:
        val = evaluate(state.par.unwrap(state.loss_module), state.val_split, p.batch_size, p.eval.max_batches,
                       state.device, state.par)
    prog.history.append({"step": step, "name": "val/loss", "value": val})
    state.say({"event": "metric", "step": step, "name": "val/loss", "value": val})
    min_delta = p.early_stopping.min_delta if p.early_stopping else 0.0
    if prog.best_val_loss is None or val < prog.best_val_loss - min_delta:
        prog.best_val_loss, prog.best_step, prog.bad_evals = val, step, 0
        save_checkpoint(state, best=True)
        return True
    prog.bad_evals += 1
    if p.early_stopping and prog.bad_evals >= p.early_stopping.patience:
        state.stopped = "early_stopping"
    return False


def maybe_stop(state: TrainState, interrupt: "Interrupt") -> None:
    # A collective vote every step: one rank's SIGINT stops all of them at the same step.
    if state.par.any_flag(interrupt.requested) and state.stopped == "completed":
        state.stopped = "interrupted"


def maybe_checkpoint(state: TrainState, saved_now: bool) -> None:
    """Every checkpoint.every_steps, and at the end (also after early stopping or SIGINT), unless eval just did."""
    step, every = state.progress.step, state.params.checkpoint.every_steps
    last = state.stopped != "completed" or step == state.total_steps
    if not saved_now and ((every and step % every == 0) or last):
        save_checkpoint(state, best=False)


def save_checkpoint(state: TrainState, best: bool) -> str:
    par, model, prog = state.par, state.model, state.progress
    if par.sharded:  # collective: every rank gathers, rank 0 keeps the full tensors
        trainable = full_trainable_state(model, par.is_main)
        opt_state = full_optimizer_state(state.optimizer, par.is_main)
    elif par.is_main:
        trainable, opt_state = ckpt.trainable_state(model), state.optimizer.state_dict()
    path = ""
    if par.is_main:
        # The params as resolved (defaults filled in from the contract): what this run actually used.
        record = dict(prog.to_json(), data_position=state.sampler.state_dict(), params=asdict(state.params))
        path = ckpt.save_checkpoint(state.checkpoint_root, prog.step, trainable, opt_state, state.scheduler, record,
                                    _adapter_writer(state), state.params.checkpoint.keep_last)
    if best and par.is_main:
        ckpt.publish_copy(path, state.best_dir)
    state.say({"event": "checkpoint", "step": prog.step, "path": path, "best": best})
    par.barrier()
    return path


def _adapter_writer(state: TrainState):
    if state.lora is None:
        return None
    from .lora import save_peft_adapter
    return lambda out: save_peft_adapter(state.model, out, state.params.model_dir, state.lora)


def finish(state: TrainState) -> dict:
    """Export (the best checkpoint's weights with early stopping on), release the process group, the result."""
    p, prog, par = state.params, state.progress, state.par
    use_best = p.early_stopping is not None and prog.best_step is not None
    out = export_final(p, state.model, state.lora, state.best_dir if use_best else None, par.is_main, par.sharded)
    par.barrier()
    par.close()
    return {"steps": prog.step, "total_steps": state.total_steps, "best_step": prog.best_step,
            "best_val_loss": prog.best_val_loss, "final_train_loss": prog.last_train_loss,
            "output_dir": p.output_dir, "adapter_dir": out.get("adapter_dir"), "model_dir": out.get("model_dir"),
            "exported_step": prog.best_step if use_best else prog.step,
            "tokens_trained": prog.tokens_trained, "trainable_parameters": state.trainable, "stopped": state.stopped}
