"""Learning-rate schedules as LambdaLR multipliers of the peak lr.

Warmup: optimizer step s (0-based) with s < warmup_steps uses (s + 1) / warmup_steps, so the last warmup step
reaches the peak and no step is wasted at lr 0. After warmup, progress p = (s - warmup) / (total - warmup) in
[0, 1] and the multiplier is
  cosine:   min + (1 - min) * 0.5 * (1 + cos(pi * p))
  linear:   min + (1 - min) * (1 - p)
  constant: 1
with min = min_lr_ratio.
"""

import math
from typing import Callable

from .errors import WorkerError

TYPES = ("cosine", "linear", "constant")


def make_lr_lambda(type: str, warmup_steps: int, total_steps: int, min_lr_ratio: float = 0.0) -> Callable[[int], float]:
    if type not in TYPES:
        raise WorkerError("WORKER_BAD_PARAMS", f"schedule.type is {type!r}",
                          f"use one of {', '.join(TYPES)}")
    if warmup_steps < 0 or total_steps < 1 or not 0.0 <= min_lr_ratio <= 1.0:
        raise WorkerError("WORKER_BAD_PARAMS",
                          f"schedule warmup_steps={warmup_steps}, total_steps={total_steps}, "
                          f"min_lr_ratio={min_lr_ratio}",
                          "warmup_steps >= 0, at least one step, min_lr_ratio between 0 and 1")

    def lr_lambda(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        if type == "constant":
            return 1.0
        p = min(1.0, max(0.0, (step - warmup_steps) / max(1, total_steps - warmup_steps)))
        if type == "cosine":
            return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * p))
        return min_lr_ratio + (1.0 - min_lr_ratio) * (1.0 - p)

    return lr_lambda
