"""The training recipe's setup: everything a `train` request needs, built once into one typed `TrainState`.

train.py runs the loop over it (torchtune's recipe shape: setup, then a short loop of train_step / maybe_eval /
maybe_checkpoint). The order of setup matters and is kept: seeding before the model is built (LoRA init draws from
the RNG), FSDP wrapping before the optimizer (FSDP replaces every parameter by its shard), the scheduler before a
resume (the checkpoint restores its state and the RNG).
"""

import math
import os
import random
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

import torch

from . import checkpoint as ckpt
from .data import BatchSampler, load_shards
from .errors import WorkerError
from .loss import LossModule
from .preference_loss import PreferenceModule
from .models.loading import load_model
from .parallel import Parallel, resolve_device
from .schedule import make_lr_lambda
from .train_params import OptimizerParams, TrainParams


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def _torch_at_least(major: int, minor: int) -> bool:
    return tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (major, minor)


def build_optimizer(model, opt: OptimizerParams) -> torch.optim.Optimizer:
    """AdamW over trainable params; no weight decay on norms, biases and other 1-D params.

    On CUDA (torch >= 2.0) the fused kernel: one launch per step instead of a few per parameter group; the same
    update up to float rounding. CPU keeps the default implementation (results unchanged)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "norm" in name or name.endswith(".bias") else decay).append(p)
    groups = [{"params": decay, "weight_decay": float(opt.weight_decay)},
              {"params": no_decay, "weight_decay": 0.0}]
    params = decay + no_decay
    extra = {"fused": True} if params and all(p.is_cuda for p in params) and _torch_at_least(2, 0) else {}
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=float(opt.lr),
                             betas=tuple(opt.betas), eps=float(opt.eps), **extra)


def compile_layers(model, enabled: Optional[bool], device, hooks_outside: bool = False) -> bool:
    """torch.compile each decoder layer (fuses RMSNorm, RoPE, SwiGLU and the LoRA adds; the layers share one
    graph) and the loss's softmax pass. enabled None = auto: on for CUDA with torch >= 2.2 (nn.Module.compile keeps state_dict keys).
    hooks_outside (FSDP): compile only `forward`, so FSDP's all-gather/reshard hooks stay eager around it.
    Returns whether it compiled."""
    from .loss import set_loss_compile
    from .quant.nf4 import set_dequant_compile
    available = hasattr(torch.nn.Module, "compile") and _torch_at_least(2, 2)
    use = (torch.device(device).type == "cuda") if enabled is None else enabled
    set_loss_compile(use and available)
    set_dequant_compile(use and available)  # QLoRA's NF4 dequantization (quant/nf4.py)
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
    targets = lo.target_modules  # a list of names, or a string ("all-linear" or a regex, as PEFT)
    return LoraConfig(r=lo.r, alpha=lo.alpha, dropout=lo.dropout,
                      target_modules=targets if isinstance(targets, str) else list(targets),
                      use_rslora=bool(lo.use_rslora))


@dataclass
class Progress:
    """What a checkpoint records and a resume restores (trainer_state.json keys): step counters, the metrics
    history and the early-stopping state."""
    step: int = 0
    history: List[dict] = field(default_factory=list)
    best_val_loss: Optional[float] = None
    best_step: Optional[int] = None
    bad_evals: int = 0  # evaluations since the last new best
    tokens_trained: int = 0
    last_train_loss: Optional[float] = None

    def to_json(self) -> dict:
        return {"step": self.step, "history": self.history, "best_val_loss": self.best_val_loss,
                "best_step": self.best_step, "bad_evals": self.bad_evals, "tokens_trained": self.tokens_trained,
                "last_train_loss": self.last_train_loss}

    def restore(self, saved: dict) -> None:
        for key in self.to_json():
            setattr(self, key, saved[key])


@dataclass
class Throughput:
    """This process's own steps (not the resumed ones): tokens/s and the ETA."""
    start_step: int
    tokens: int = 0
    seconds: float = 0.0


@dataclass
class TrainState:
    params: TrainParams
    par: Parallel
    device: torch.device
    say: Callable[[dict], None]  # emits on rank 0, drops elsewhere
    model: torch.nn.Module
    lora: Optional[object]  # LoraConfig for LoRA runs, None for full fine-tuning
    loss_module: torch.nn.Module  # LossModule(model), wrapped for DDP / FSDP
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    sampler: BatchSampler
    train_split: object
    val_split: Optional[object]
    vocab: int
    total_steps: int
    trainable: int  # trainable parameter count
    trainable_params: List[torch.nn.Parameter]
    reference: Optional[dict] = None  # DPO: {split: [pairs, 2] reference log-probs}, see reference_logps.py
    progress: Progress = field(default_factory=Progress)
    throughput: Throughput = field(default_factory=lambda: Throughput(0))
    stopped: str = "completed"  # or "early_stopping" / "interrupted"

    @property
    def checkpoint_root(self) -> str:
        return os.path.join(self.params.output_dir, "checkpoints")

    @property
    def best_dir(self) -> str:
        return os.path.join(self.params.output_dir, "best")


def _load_trainable_model(p: TrainParams, shards, device, dtype, say):
    """The model on `device`, LoRA-wrapped for a LoRA run: (model, LoraConfig or None, trainable count)."""
    t0 = time.time()
    if p.quantize == "nf4":  # QLoRA: every LoRA-able projection quantized as it is read (models/loading.py)
        from .lora import LORA_TARGETS
        model = load_model(p.model_dir, device=device, dtype=dtype, quantize="nf4", quantize_targets=LORA_TARGETS,
                           double_quant=p.double_quant)
    else:
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
        if p.init_adapter:
            from .lora import load_init_adapter
            load_init_adapter(model, p.init_adapter, lcfg)
        model.to(device)
    trainable = sum(x.numel() for x in model.parameters() if x.requires_grad)
    total_params = sum(x.numel() for x in model.parameters())
    quant = f", base projections nf4{' (double-quant)' if p.double_quant else ''}" if p.quantize == "nf4" else ""
    say({"event": "log", "level": "info", "message": f"loaded {p.model_dir} on {device} as {str(dtype)[6:]}{quant} in "
         f"{time.time() - t0:.2f} s; training {trainable:,} of {total_params:,} parameters ({p.method})"})
    return model, lcfg, trainable


def _start_training_mode(model, p: TrainParams, par: Parallel, device, say) -> None:
    model.train()
    compiled = compile_layers(model, p.compile, device, hooks_outside=par.sharded)
    if p.compile and not compiled:
        say({"event": "log", "level": "warning", "message": f"compile: true ignored: torch.compile needs torch >= "
             f"2.2 (this is {torch.__version__})"})
    if p.distributed == "fsdp" and par.world_size == 1:
        say({"event": "log", "level": "warning", "message": "distributed: fsdp ignored: one process (nothing to "
             "shard across); set processes to the number of GPUs"})


def _check_layout(shards, p: TrainParams) -> None:
    """Preference objectives read paired rows (layout "pairs"); sft reads packed documents."""
    layout = shards.header.get("layout", "packed")
    if p.objective != "sft" and layout != "pairs":
        raise WorkerError("WORKER_BAD_SHARDS", f"objective {p.objective} needs preference shards (layout \"pairs\"), "
                          f"but {p.data_dir} holds {layout} documents", "compile the dataset's preference records "
                          "for preference training (tunekit train does this for objective dpo / orpo)")
    if p.objective == "sft" and layout == "pairs":
        raise WorkerError("WORKER_BAD_SHARDS", f"{p.data_dir} holds preference pairs, but objective is sft",
                          "set objective dpo or orpo to train on preference pairs")


def setup(p: TrainParams, emit: Callable[[dict], None]) -> TrainState:
    par = Parallel.from_env(p.distributed)
    device, dtype = resolve_device(p.device, p.dtype, par.local_rank)
    say = emit if par.is_main else (lambda event: None)
    seed_everything(p.seed)
    shards = load_shards(p.data_dir)
    _check_layout(shards, p)
    preference = p.objective != "sft"
    train_split, val_split = shards.split("train"), shards.split("val")
    model, lcfg, trainable = _load_trainable_model(p, shards, device, dtype, say)
    _start_training_mode(model, p, par, device, say)
    # Wrapped before the optimizer is built: FSDP replaces every parameter by its shard.
    inner = PreferenceModule(model) if preference else LossModule(model)
    loss_module = par.wrap(inner, device)
    optimizer = build_optimizer(model, p.optimizer)
    # Preference runs sample pairs (rows 2i, 2i+1); batch_size counts pairs.
    units = train_split.sequences // 2 if preference else train_split.sequences
    sampler = BatchSampler(units, p.batch_size, p.seed, rank=par.rank, world_size=par.world_size)
    total_steps = p.max_steps or max(1, math.ceil(sampler.batches_per_epoch() * p.epochs / p.grad_accum))
    sched = p.schedule
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, make_lr_lambda(sched.type, sched.warmup_steps, total_steps, sched.min_lr_ratio))
    state = TrainState(params=p, par=par, device=device, say=say, model=model, lora=lcfg, loss_module=loss_module,
                       optimizer=optimizer, scheduler=scheduler, sampler=sampler, train_split=train_split,
                       val_split=val_split, vocab=model.config.vocab_size, total_steps=total_steps,
                       trainable=trainable, trainable_params=[x for x in model.parameters() if x.requires_grad])
    if p.objective == "dpo" and not p.dpo.reference_free:
        # Before a resume loads trained weights: the model is still the base here (LoRA: adapters switched off).
        from .reference_logps import load_or_compute, reference_key
        state.reference = load_or_compute(inner, {"train": train_split, "val": val_split}, p.batch_size, device,
                                          p.output_dir, reference_key(p.data_dir, p.model_dir), lcfg is not None,
                                          par.is_main, say)
    if p.resume_from:
        path = ckpt.find_checkpoint(p.resume_from)
        saved = ckpt.load_checkpoint(path, model, optimizer, scheduler)
        sampler.load_state_dict(saved["data_position"])
        state.progress.restore(saved)
        say({"event": "log", "level": "info", "message": f"resumed from {path} at step {state.progress.step}"})
    state.throughput = Throughput(start_step=state.progress.step)
    return state
