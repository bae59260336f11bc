"""The `train` request's params (docs/worker-protocol.md) as typed, resolved values.

Constraints and defaults are the contract's (contract/worker-params.schema.json, generated from zod): the request
is validated and filled from it, then held in these dataclasses, which have no defaults of their own. Only rules
across params, which a per-field schema cannot state, are checked here; all problems are reported at once.
"""

from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

from .contract import bad_params, check_params


@dataclass
class LoraParams:
    r: int
    alpha: float
    dropout: float
    target_modules: Union[List[str], str]  # names, or PEFT's string forms: "all-linear" or a regex
    use_rslora: bool


@dataclass
class OptimizerParams:
    lr: float
    weight_decay: float
    betas: Tuple[float, float]
    eps: float


@dataclass
class ScheduleParams:
    type: str
    warmup_steps: int
    min_lr_ratio: float


@dataclass
class EvalParams:
    every_steps: Optional[int]  # None: only after the last step
    max_batches: Optional[int]


@dataclass
class EarlyStoppingParams:
    patience: int
    min_delta: float


@dataclass
class CheckpointParams:
    every_steps: Optional[int]  # None: only at new bests and at the end
    keep_last: int


@dataclass
class DpoParams:
    beta: float
    loss: str  # "sigmoid"
    reference_free: bool


@dataclass
class OrpoParams:
    beta: float  # the paper's lambda


@dataclass
class TrainParams:
    model_dir: str
    data_dir: str
    output_dir: str
    resume_from: Optional[str]
    init_adapter: Optional[str]  # a PEFT adapter folder a LoRA run starts from
    method: str
    quantize: str  # "none", or "nf4" (QLoRA: the frozen base projections stored as 4-bit NormalFloat)
    double_quant: bool  # with nf4: the block scales quantized to 8 bits as well
    objective: str  # "sft", or a preference objective over paired rows: "dpo", "orpo"
    dpo: DpoParams
    orpo: OrpoParams
    lora: LoraParams
    optimizer: OptimizerParams
    schedule: ScheduleParams
    batch_size: int
    grad_accum: int
    epochs: float
    max_steps: Optional[int]
    max_grad_norm: Optional[float]
    gradient_checkpointing: Union[bool, int]  # False, True (every layer) or k >= 0 (the first k layers)
    distributed: str  # with several processes: "ddp" (a model copy per GPU) or "fsdp" (sharded, full FT)
    compile: Optional[bool]  # torch.compile each decoder layer; None = auto (CUDA with torch >= 2.2)
    seed: int
    eval: EvalParams
    early_stopping: Optional[EarlyStoppingParams]
    checkpoint: CheckpointParams
    device: str
    dtype: str
    log_every: int


SECTIONS = {"lora": LoraParams, "optimizer": OptimizerParams, "schedule": ScheduleParams, "eval": EvalParams,
            "early_stopping": EarlyStoppingParams, "checkpoint": CheckpointParams, "dpo": DpoParams,
            "orpo": OrpoParams}


def _cross_param_problems(p: dict) -> List[str]:
    """Rules across params; each runs only on values the schema accepted (their problem is already listed)."""
    problems = []
    if p.get("distributed") == "fsdp" and p.get("method") == "lora":
        problems.append("params.distributed: fsdp is for full fine-tuning, but method is \"lora\" (use ddp for LoRA)")
    if p.get("init_adapter") and p.get("method") == "full":
        problems.append("params.init_adapter: a PEFT adapter starts a LoRA run, but method is \"full\" (use method lora, "
                        "or merge the adapter into a model folder and fine-tune that)")
    if p.get("quantize", "none") != "none" and p.get("method") == "full":
        problems.append(f"params.quantize: {p.get('quantize')} (QLoRA) trains LoRA adapters on a frozen 4-bit base, "
                        "but method is \"full\" (use method lora, or quantize none for full fine-tuning)")
    return problems


def parse_train_params(raw) -> TrainParams:
    resolved, problems = check_params("train", raw)
    problems += _cross_param_problems(resolved)
    if problems:
        raise bad_params("train", problems)
    values = dict(resolved)
    for name, cls in SECTIONS.items():
        if values[name] is not None:
            values[name] = cls(**values[name])
    values["optimizer"].betas = tuple(values["optimizer"].betas)
    return TrainParams(**values)

