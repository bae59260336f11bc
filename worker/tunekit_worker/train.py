"""The training loop: LoRA or full fine-tuning over compiled shards, with eval, early stopping and checkpoints.

`run_training(params, emit)` runs one `train` request (docs/worker-protocol.md) and returns the `done` result;
`emit(event_dict)` receives progress / metric / checkpoint / log events (the protocol adds the request id).
Under torchrun (WORLD_SIZE > 1) every rank runs this; only rank 0 emits events and writes files.
"""

import math
import os
import random
import signal
import time
from contextlib import nullcontext
from typing import Callable, Optional

import torch

from . import checkpoint as ckpt
from .data import BatchSampler, load_shards
from .errors import WorkerError
from .export import export_final
from .loss import LossModule
from .models.llama import load_model, positions_from_segments
from .parallel import Parallel, resolve_device
from .schedule import make_lr_lambda
from .sharded_state import full_optimizer_state, full_trainable_state, is_sharded
from .train_params import TrainParams, parse_train_params


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def _torch_at_least(major: int, minor: int) -> bool:
    return tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (major, minor)


def build_optimizer(model, opt: dict) -> torch.optim.Optimizer:
    """AdamW over trainable params; no weight decay on norms, biases and other 1-D params.

    On CUDA (torch >= 2.0) the fused kernel: one launch per step instead of a few per parameter group; the same
    update up to float rounding. CPU keeps the default implementation (results unchanged)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "norm" in name or name.endswith(".bias") else decay).append(p)
    groups = [{"params": decay, "weight_decay": float(opt["weight_decay"])},
              {"params": no_decay, "weight_decay": 0.0}]
    params = decay + no_decay
    extra = {"fused": True} if params and all(p.is_cuda for p in params) and _torch_at_least(2, 0) else {}
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=float(opt["lr"]),
                             betas=tuple(opt["betas"]), eps=float(opt["eps"]), **extra)


def compile_layers(model, enabled: Optional[bool], device, hooks_outside: bool = False) -> bool:
    """torch.compile each decoder layer (fuses RMSNorm, RoPE, SwiGLU and the LoRA adds; the layers share one
    graph) and the loss's softmax pass. enabled None = auto: on for CUDA with torch >= 2.2 (nn.Module.compile keeps state_dict keys).
    hooks_outside (FSDP): compile only `forward`, so FSDP's all-gather/reshard hooks stay eager around it.
    Returns whether it compiled."""
    from .loss import set_loss_compile
    available = hasattr(torch.nn.Module, "compile") and _torch_at_least(2, 2)
    use = (torch.device(device).type == "cuda") if enabled is None else enabled
    set_loss_compile(use and available)
    if not (use and available):
        return False
    for layer in model.model.layers:
        if hooks_outside:
            layer.forward = torch.compile(layer.forward)
        else:
            layer.compile()
    return True


def lora_config(p: TrainParams):
    from .lora import LoraConfig
    lo = p.lora
    targets = lo["target_modules"]  # a list of names, or a string ("all-linear" or a regex, as PEFT)
    return LoraConfig(r=lo["r"], alpha=lo["alpha"], dropout=lo["dropout"],
                      target_modules=targets if isinstance(targets, str) else list(targets),
                      use_rslora=bool(lo["use_rslora"]))


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
    p = parse_train_params(raw_params)
    par = Parallel.from_env(p.distributed)
    device, dtype = resolve_device(p.device, p.dtype, par.local_rank)
    say = emit if par.is_main else (lambda event: None)
    seed_everything(p.seed)
    shards = load_shards(p.data_dir)
    train_split, val_split = shards.split("train"), shards.split("val")
    t0 = time.time()
    model = load_model(p.model_dir, device=device, dtype=dtype)
    vocab = model.config.vocab_size
    if shards.header.get("vocab_size", 0) > vocab:
        raise WorkerError("WORKER_BAD_SHARDS", f"shards were compiled for vocab_size {shards.header['vocab_size']}"
                          f" but {p.model_dir} has {vocab}", "compile the data with this model's tokenizer")
    model.gradient_checkpointing = p.gradient_checkpointing
    lcfg = None
    if p.method == "lora":
        from .lora import apply_lora
        for param in model.parameters():
            param.requires_grad_(False)
        lcfg = lora_config(p)
        apply_lora(model, lcfg)
        model.to(device)
    trainable = sum(x.numel() for x in model.parameters() if x.requires_grad)
    total_params = sum(x.numel() for x in model.parameters())
    say({"event": "log", "level": "info", "message": f"loaded {p.model_dir} on {device} as {str(dtype)[6:]} in "
         f"{time.time() - t0:.2f} s; training {trainable:,} of {total_params:,} parameters ({p.method})"})
    model.train()
    compiled = compile_layers(model, p.compile, device, hooks_outside=par.sharded)
    if p.compile and not compiled:
        say({"event": "log", "level": "warning", "message": f"compile: true ignored: torch.compile needs torch >= "
             f"2.2 (this is {torch.__version__})"})
    if p.distributed == "fsdp" and par.world_size == 1:
        say({"event": "log", "level": "warning", "message": "distributed: fsdp ignored: one process (nothing to "
             "shard across); set processes to the number of GPUs"})
    # Wrapped before the optimizer is built: FSDP replaces every parameter by its shard.
    loss_module = par.wrap(LossModule(model), device)
    optimizer = build_optimizer(model, p.optimizer)
    sampler = BatchSampler(train_split.sequences, p.batch_size, p.seed, rank=par.rank, world_size=par.world_size)
    total_steps = p.max_steps or max(1, math.ceil(sampler.batches_per_epoch() * p.epochs / p.grad_accum))
    sched = p.schedule
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, make_lr_lambda(sched["type"], sched["warmup_steps"], total_steps, sched["min_lr_ratio"]))
    ckpt_root = os.path.join(p.output_dir, "checkpoints")
    best_dir = os.path.join(p.output_dir, "best")
    state = {"step": 0, "history": [], "best_val_loss": None, "best_step": None, "bad_evals": 0,
             "tokens_trained": 0, "last_train_loss": None}
    if p.resume_from:
        path = ckpt.find_checkpoint(p.resume_from)
        saved = ckpt.load_checkpoint(path, model, optimizer, scheduler)
        sampler.load_state_dict(saved["data_position"])
        state.update({k: saved[k] for k in state})
        say({"event": "log", "level": "info", "message": f"resumed from {path} at step {state['step']}"})
    write_adapter = None
    if lcfg is not None:
        from .lora import save_peft_adapter
        write_adapter = lambda out: save_peft_adapter(model, out, p.model_dir, lcfg)  # noqa: E731

    def save(best: bool) -> str:
        if par.sharded:  # collective: every rank gathers, rank 0 keeps the full tensors
            trainable = full_trainable_state(model, par.is_main)
            opt_state = full_optimizer_state(optimizer, par.is_main)
        elif par.is_main:
            trainable, opt_state = ckpt.trainable_state(model), optimizer.state_dict()
        path = ckpt.save_checkpoint(ckpt_root, state["step"], trainable, opt_state, scheduler,
                                    dict(state, data_position=sampler.state_dict(), params=raw_params),
                                    write_adapter, p.checkpoint["keep_last"]) if par.is_main else ""
        if best and par.is_main:
            ckpt.publish_copy(path, best_dir)
        say({"event": "checkpoint", "step": state["step"], "path": path, "best": best})
        par.barrier()
        return path

    params_list = [x for x in model.parameters() if x.requires_grad]
    stopped, start_step, run_tokens, run_time = "completed", state["step"], 0, 0.0
    with Interrupt() as interrupt:
        while state["step"] < total_steps:
            t_step = time.time()
            micro = [train_split.rows(sampler.next_batch()) for _ in range(p.grad_accum)]
            # Counted and checked on the host copies (no device syncs), then moved.
            counts = torch.tensor([float(sum(int(b["mask"][:, 1:].sum()) for b in micro)),
                                   float(sum(int((b["segments"] != 0).sum()) for b in micro))],
                                  dtype=torch.float64, device=device)
            top = max(int(b["tokens"].max()) for b in micro)
            micro = [_to_device(b, device) for b in micro]
            if top >= vocab:
                raise WorkerError("WORKER_BAD_SHARDS", f"token id {top} in {p.data_dir} is outside the model's "
                                  f"vocabulary of {vocab}", "compile the data with this model's tokenizer")
            par.all_reduce(counts)
            target_tokens = max(1.0, float(counts[0]))
            loss_total = 0.0
            for i, b in enumerate(micro):
                sync = par.no_sync(loss_module) if i < len(micro) - 1 else nullcontext()
                with sync:
                    loss_sum, _ = loss_module(b["tokens"], b["mask"], b["segments"],
                                              positions_from_segments(b["segments"]))
                    # DDP averages grads over ranks; scaling by world_size makes it the global token mean.
                    (loss_sum * (par.world_size / target_tokens)).backward()
                loss_total += float(loss_sum.detach())
            grad_norm = torch.nn.utils.clip_grad_norm_(params_list, p.max_grad_norm or float("inf"))
            if is_sharded(grad_norm):  # FSDP: the norm over all shards, the same on every rank
                grad_norm = grad_norm.full_tensor()
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            loss_t = torch.tensor([loss_total], dtype=torch.float64, device=device)
            par.all_reduce(loss_t)
            train_loss = float(loss_t[0]) / target_tokens
            state["step"] += 1
            state["tokens_trained"] += int(counts[1])
            state["last_train_loss"] = train_loss
            state["history"].append({"step": state["step"], "name": "train/loss", "value": train_loss})
            step = state["step"]
            run_tokens += int(counts[1])
            run_time += time.time() - t_step
            if step % p.log_every == 0 or step == total_steps:
                tps = run_tokens / max(run_time, 1e-9)
                eta = (total_steps - step) * run_time / max(1, step - start_step)
                say({"event": "progress", "step": step, "total_steps": total_steps,
                     "epoch": round(sampler.progress(), 4), "loss": train_loss, "lr": lr,
                     "tokens_per_s": round(tps, 1), "eta_s": round(eta, 1)})
                for name, value in (("train/loss", train_loss), ("train/lr", lr),
                                    ("train/grad_norm", float(grad_norm)), ("train/tokens_per_s", tps)):
                    say({"event": "metric", "step": step, "name": name, "value": value})
            saved_now = False
            every = p.eval["every_steps"]
            if val_split is not None and ((every and step % every == 0) or step == total_steps):
                val = evaluate(par.unwrap(loss_module), val_split, p.batch_size, p.eval["max_batches"], device, par)
                state["history"].append({"step": step, "name": "val/loss", "value": val})
                say({"event": "metric", "step": step, "name": "val/loss", "value": val})
                es = p.early_stopping or {"min_delta": 0.0}
                if state["best_val_loss"] is None or val < state["best_val_loss"] - es["min_delta"]:
                    state.update(best_val_loss=val, best_step=step, bad_evals=0)
                    save(best=True)
                    saved_now = True
                else:
                    state["bad_evals"] += 1
                    if p.early_stopping and state["bad_evals"] >= p.early_stopping["patience"]:
                        stopped = "early_stopping"
            stop_now = par.any_flag(interrupt.requested)
            if stop_now and stopped == "completed":
                stopped = "interrupted"
            every_ck = p.checkpoint["every_steps"]
            last = stopped != "completed" or step == total_steps
            if not saved_now and ((every_ck and step % every_ck == 0) or last):
                save(best=False)
            if stopped != "completed":
                break
    use_best = p.early_stopping is not None and state["best_step"] is not None
    out = export_final(p, model, lcfg, best_dir if use_best else None, par.is_main, par.sharded)
    par.barrier()
    par.close()
    return {"steps": state["step"], "total_steps": total_steps, "best_step": state["best_step"],
            "best_val_loss": state["best_val_loss"], "final_train_loss": state["last_train_loss"],
            "output_dir": p.output_dir, "adapter_dir": out.get("adapter_dir"), "model_dir": out.get("model_dir"),
            "exported_step": state["best_step"] if use_best else state["step"],
            "tokens_trained": state["tokens_trained"], "trainable_parameters": trainable, "stopped": stopped}
