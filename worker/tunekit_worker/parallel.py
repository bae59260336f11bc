"""Device/dtype resolution and the data-parallel plumbing (torchrun: WORLD_SIZE, RANK, LOCAL_RANK).

With one process every method is a no-op, so the training loop reads the same either way. Several processes wrap
the model+loss in DistributedDataParallel (`ddp`: LoRA, and full fine-tuning that fits one GPU) or shard it with
FSDP2's `fully_shard` (`fsdp`: full fine-tuning of models whose weights + gradients + AdamW states do not fit one
GPU). FSDP shards each decoder layer (one all-gather per layer, freed after use) and the model+loss root (the
embedding, final norm and LM head, which the fused loss reads directly), so every rank holds 1/world of the rows.
"""

import os
from contextlib import contextmanager, nullcontext

import torch
import torch.distributed as dist

from .errors import WorkerError


def resolve_device(device: str, dtype: str, local_rank: int = 0):
    """("auto"|"cpu"|"cuda"|"cuda:N", "auto"|"float32"|"bfloat16") -> (torch.device, torch.dtype).

    auto: CUDA (this process's local rank) with bfloat16 when the GPU supports it, else CPU with float32.
    """
    cuda = torch.cuda.is_available()
    if device == "auto":
        device = f"cuda:{local_rank}" if cuda else "cpu"
    elif device == "cuda":
        device = f"cuda:{local_rank}"
    if device.startswith("cuda") and not cuda:
        raise WorkerError("WORKER_NO_CUDA", f"device {device!r} was requested but this torch "
                          f"({torch.__version__}) sees no CUDA GPU", 'use "device": "auto" or "cpu"')
    dev = torch.device(device)
    if dtype == "auto":
        bf16 = dev.type == "cuda" and torch.cuda.is_bf16_supported()
        return dev, torch.bfloat16 if bf16 else torch.float32
    return dev, {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype]


@contextmanager
def _fsdp_no_sync(module):
    """FSDP2's no_sync: gradients accumulate unsharded locally; the last micro-batch reduce-scatters them all."""
    module.set_requires_gradient_sync(False)
    try:
        yield
    finally:
        module.set_requires_gradient_sync(True)


class Parallel:
    def __init__(self, rank: int = 0, world_size: int = 1, local_rank: int = 0, owns_group: bool = False,
                 strategy: str = "ddp"):
        self.rank, self.world_size, self.local_rank = rank, world_size, local_rank
        self.owns_group = owns_group
        self.strategy = strategy

    @property
    def sharded(self) -> bool:
        """Weights, gradients and optimizer states are DTensor shards (FSDP with more than one process)."""
        return self.strategy == "fsdp" and self.world_size > 1

    @classmethod
    def from_env(cls, strategy: str = "ddp") -> "Parallel":
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls(strategy=strategy)
        rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
        owns = False
        if not dist.is_initialized():
            if torch.cuda.is_available():
                torch.cuda.set_device(local_rank)
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
            owns = True
        return cls(rank, world, local_rank, owns, strategy)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, module, device):
        """module: the LossModule (model + loss). Call before building the optimizer (FSDP replaces parameters)."""
        if self.world_size == 1:
            return module
        if self.sharded:
            try:
                from torch.distributed.fsdp import fully_shard  # torch >= 2.6 (public FSDP2)
            except Exception:  # ImportError; torch 1.13 on Python 3.11 even fails importing the package (ValueError)
                raise WorkerError("WORKER_NO_FSDP", f"distributed: fsdp needs torch >= 2.6 with FSDP2; this is "
                                  f"torch {torch.__version__}", "upgrade torch, or use distributed: ddp") from None
            for layer in module.model.model.layers:
                fully_shard(layer)
            fully_shard(module)
            return module
        from torch.nn.parallel import DistributedDataParallel
        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids)

    def unwrap(self, module):
        return getattr(module, "module", module) if self.world_size > 1 and not self.sharded else module

    def no_sync(self, module):
        if self.sharded:
            return _fsdp_no_sync(module)
        return module.no_sync() if self.world_size > 1 else nullcontext()

    def all_reduce(self, tensor: torch.Tensor) -> None:
        if self.world_size > 1:
            dist.all_reduce(tensor)

    def any_flag(self, flag: bool) -> bool:
        """True on every rank when any rank's flag is set (e.g. SIGINT reached only some ranks)."""
        if self.world_size == 1:
            return flag
        dev = torch.device("cuda", self.local_rank) if torch.cuda.is_available() else torch.device("cpu")
        t = torch.tensor([1.0 if flag else 0.0], device=dev)
        dist.all_reduce(t)
        return bool(t.item() > 0)

    def barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier()

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
