"""The `train` request's params (docs/worker-protocol.md): defaults, and every problem reported at once."""

from dataclasses import dataclass, field
from typing import List, Optional

from .errors import WorkerError
from .schedule import TYPES


@dataclass
class TrainParams:
    model_dir: str
    data_dir: str
    output_dir: str
    resume_from: Optional[str] = None
    method: str = "lora"
    lora: dict = field(default_factory=lambda: {"r": 8, "alpha": 16, "dropout": 0.0,
                                                "target_modules": ["q_proj", "v_proj"], "use_rslora": False})
    optimizer: dict = field(default_factory=lambda: {"lr": 2e-4, "weight_decay": 0.0, "betas": [0.9, 0.999],
                                                     "eps": 1e-8})
    schedule: dict = field(default_factory=lambda: {"type": "cosine", "warmup_steps": 0, "min_lr_ratio": 0.0})
    batch_size: int = 8
    grad_accum: int = 1
    epochs: float = 1
    max_steps: Optional[int] = None
    max_grad_norm: Optional[float] = 1.0
    gradient_checkpointing: object = False  # False, True (every layer) or k >= 0 (the first k layers)
    distributed: str = "ddp"  # with several processes: "ddp" (a model copy per GPU) or "fsdp" (sharded, full FT)
    compile: Optional[bool] = None  # torch.compile each decoder layer; null = auto (CUDA with torch >= 2.2)
    seed: int = 42
    eval: dict = field(default_factory=lambda: {"every_steps": 50, "max_batches": None})
    early_stopping: Optional[dict] = None
    checkpoint: dict = field(default_factory=lambda: {"every_steps": 50, "keep_last": 2})
    device: str = "auto"
    dtype: str = "auto"
    log_every: int = 1


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_train_params(raw) -> TrainParams:
    if not isinstance(raw, dict):
        raise WorkerError("WORKER_BAD_PARAMS", f"train params must be an object, got {type(raw).__name__}",
                          "send params as a JSON object (docs/worker-protocol.md)")
    defaults = TrainParams("", "", "")
    known = set(TrainParams.__dataclass_fields__)
    problems: List[str] = [f"unknown param {k!r}" for k in sorted(raw) if k not in known]
    values = {}
    for name in known:
        default = getattr(defaults, name)
        value = raw.get(name, default)
        if isinstance(default, dict) and isinstance(value, dict):  # nested: defaults for missing keys
            unknown = sorted(set(value) - set(default))
            problems += [f"unknown param {name}.{k}" for k in unknown]
            value = {**default, **value}
        values[name] = value
    p = TrainParams(**values)
    for name in ("model_dir", "data_dir", "output_dir"):
        if not isinstance(getattr(p, name), str) or not getattr(p, name):
            problems.append(f"{name} is required (a folder path), got {getattr(p, name)!r}")
    if p.resume_from is not None and not isinstance(p.resume_from, str):
        problems.append(f"resume_from must be a path or null, got {p.resume_from!r}")
    if p.method not in ("lora", "full"):
        problems.append(f"method is {p.method!r}, use 'lora' or 'full'")
    if p.method == "lora":
        lo = p.lora
        if not _is_int(lo["r"]) or lo["r"] < 1:
            problems.append(f"lora.r must be a positive integer, got {lo['r']!r}")
        if not _is_num(lo["alpha"]) or lo["alpha"] <= 0:
            problems.append(f"lora.alpha must be positive, got {lo['alpha']!r}")
        if not _is_num(lo["dropout"]) or not 0 <= lo["dropout"] < 1:
            problems.append(f"lora.dropout must be in [0, 1), got {lo['dropout']!r}")
        targets = lo["target_modules"]
        if not (isinstance(targets, str) and targets) and not (
                isinstance(targets, list) and targets and all(isinstance(t, str) for t in targets)):
            problems.append(f"lora.target_modules must be a non-empty list of module names, \"all-linear\" or "
                            f"a regex, got {targets!r}")
    o = p.optimizer
    if not _is_num(o["lr"]) or o["lr"] <= 0:
        problems.append(f"optimizer.lr must be positive, got {o['lr']!r}")
    if not _is_num(o["weight_decay"]) or o["weight_decay"] < 0:
        problems.append(f"optimizer.weight_decay must be >= 0, got {o['weight_decay']!r}")
    if not (isinstance(o["betas"], list) and len(o["betas"]) == 2 and all(_is_num(b) and 0 <= b < 1
                                                                          for b in o["betas"])):
        problems.append(f"optimizer.betas must be two numbers in [0, 1), got {o['betas']!r}")
    s = p.schedule
    if s["type"] not in TYPES:
        problems.append(f"schedule.type is {s['type']!r}, use one of {', '.join(TYPES)}")
    if not _is_int(s["warmup_steps"]) or s["warmup_steps"] < 0:
        problems.append(f"schedule.warmup_steps must be an integer >= 0, got {s['warmup_steps']!r}")
    if not _is_num(s["min_lr_ratio"]) or not 0 <= s["min_lr_ratio"] <= 1:
        problems.append(f"schedule.min_lr_ratio must be in [0, 1], got {s['min_lr_ratio']!r}")
    for name in ("batch_size", "grad_accum", "log_every"):
        if not _is_int(getattr(p, name)) or getattr(p, name) < 1:
            problems.append(f"{name} must be a positive integer, got {getattr(p, name)!r}")
    if p.max_steps is not None and (not _is_int(p.max_steps) or p.max_steps < 1):
        problems.append(f"max_steps must be a positive integer or null, got {p.max_steps!r}")
    if p.max_steps is None and (not _is_num(p.epochs) or p.epochs <= 0):
        problems.append(f"epochs must be positive (or set max_steps), got {p.epochs!r}")
    if p.max_grad_norm is not None and (not _is_num(p.max_grad_norm) or p.max_grad_norm <= 0):
        problems.append(f"max_grad_norm must be positive or null, got {p.max_grad_norm!r}")
    if not _is_int(p.seed):
        problems.append(f"seed must be an integer, got {p.seed!r}")
    ev = p.eval
    if ev["every_steps"] is not None and (not _is_int(ev["every_steps"]) or ev["every_steps"] < 1):
        problems.append(f"eval.every_steps must be a positive integer or null, got {ev['every_steps']!r}")
    if ev["max_batches"] is not None and (not _is_int(ev["max_batches"]) or ev["max_batches"] < 1):
        problems.append(f"eval.max_batches must be a positive integer or null, got {ev['max_batches']!r}")
    if p.early_stopping is not None:
        es = {"patience": 3, "min_delta": 0.0, **p.early_stopping} if isinstance(p.early_stopping, dict) else None
        if es is None or not _is_int(es["patience"]) or es["patience"] < 1 or not _is_num(es["min_delta"]) \
                or es["min_delta"] < 0:
            problems.append(f"early_stopping must be null or {{patience >= 1, min_delta >= 0}}, "
                            f"got {p.early_stopping!r}")
        else:
            p.early_stopping = es
    ck = p.checkpoint
    if ck["every_steps"] is not None and (not _is_int(ck["every_steps"]) or ck["every_steps"] < 1):
        problems.append(f"checkpoint.every_steps must be a positive integer or null, got {ck['every_steps']!r}")
    if not _is_int(ck["keep_last"]) or ck["keep_last"] < 1:
        problems.append(f"checkpoint.keep_last must be a positive integer, got {ck['keep_last']!r}")
    if not (p.device in ("auto", "cpu", "cuda") or (isinstance(p.device, str) and p.device.startswith("cuda:"))):
        problems.append(f"device is {p.device!r}, use auto, cpu, cuda or cuda:N")
    gc = p.gradient_checkpointing
    if not isinstance(gc, bool) and not (_is_int(gc) and gc >= 0):
        problems.append(f"gradient_checkpointing must be true, false or a number of layers >= 0, got {gc!r}")
    if p.distributed not in ("ddp", "fsdp"):
        problems.append(f"distributed is {p.distributed!r}, use ddp or fsdp")
    elif p.distributed == "fsdp" and p.method != "full":
        problems.append(f"distributed: fsdp is for full fine-tuning, but method is {p.method!r} (use ddp for LoRA)")
    if p.compile is not None and not isinstance(p.compile, bool):
        problems.append(f"compile must be true, false or null (auto: on for CUDA), got {p.compile!r}")
    if p.dtype not in ("auto", "float32", "bfloat16"):
        problems.append(f"dtype is {p.dtype!r}, use auto, float32 or bfloat16 (float16 training is not supported)")
    if problems:
        raise WorkerError("WORKER_BAD_PARAMS", f"invalid train params: {'; '.join(problems)}",
                          "correct these params (docs/worker-protocol.md lists every train param)")
    return p
