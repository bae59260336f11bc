"""Full (unsharded) weights and optimizer state of an FSDP-sharded model, and the way back.

Under `distributed: fsdp` every parameter, gradient and AdamW state is a DTensor holding 1/world of the rows
(dim 0) on each rank. Checkpoints stay in the single-process format (trainable.safetensors under the model's own
names, `optimizer.state_dict()` keyed by parameter index, full tensors): a run can be resumed, exported or merged
with any number of processes, and the files are the ones every other tool reads. The cost is one all-gather per
tensor when saving (rank 0 keeps a CPU copy), which is what makes the format world-size independent.

All functions here are collective under FSDP: every rank must call them, in the same order.
On torch without DTensor (Debian's 1.13) nothing is ever sharded and they reduce to plain state dicts.
"""

from typing import Dict

import torch

try:  # torch >= 2.4; public path since 2.5
    from torch.distributed.tensor import DTensor, distribute_tensor
except ImportError:  # pragma: no cover - torch 1.13 (CPU CI): never sharded
    DTensor, distribute_tensor = None, None


def is_sharded(t) -> bool:
    return DTensor is not None and isinstance(t, DTensor)


def _full_cpu(t: torch.Tensor, keep: bool) -> torch.Tensor:
    """The whole tensor on the CPU where `keep`; the all-gather runs on every rank regardless."""
    if is_sharded(t):
        t = t.full_tensor()
    return t.detach().to("cpu", copy=True) if keep else t


def full_trainable_state(model, keep: bool) -> Dict[str, torch.Tensor]:
    """{name: full CPU tensor} of every trainable parameter on ranks with `keep` (rank 0), {} elsewhere."""
    out = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            full = _full_cpu(p, keep)
            if keep:
                out[name] = full
    return out


def full_model_state(model, keep: bool) -> Dict[str, torch.Tensor]:
    """model.state_dict() with full CPU tensors on ranks with `keep`, {} elsewhere (for exporting a folder)."""
    out = {}
    for name, t in model.state_dict().items():
        full = _full_cpu(t, keep)
        if keep:
            out[name] = full
    return out


def full_optimizer_state(optimizer, keep: bool) -> dict:
    """optimizer.state_dict() with every sharded state tensor (exp_avg, exp_avg_sq) gathered to the CPU."""
    sd = optimizer.state_dict()
    state = {}
    for idx in sorted(sd["state"]):
        entry = {}
        for key, v in sd["state"][idx].items():
            entry[key] = _full_cpu(v, keep) if torch.is_tensor(v) else v
        state[idx] = entry
    return {"state": state, "param_groups": sd["param_groups"]} if keep else {}


def _shard_like(full: torch.Tensor, like) -> torch.Tensor:
    """The DTensor with `like`'s mesh and placements whose global value is `full` (present on every rank)."""
    full = full.to(like.device)
    try:  # every rank holds the same full tensor: slice locally, no broadcast
        return distribute_tensor(full, like.device_mesh, like.placements, src_data_rank=None)
    except TypeError:  # torch without src_data_rank: broadcast from rank 0 (same values)
        return distribute_tensor(full, like.device_mesh, like.placements)


def copy_into(param: torch.Tensor, full: torch.Tensor) -> None:
    """param (plain or sharded) <- full tensor of the parameter's global shape."""
    assert tuple(full.shape) == tuple(param.shape), f"shape {tuple(full.shape)} != {tuple(param.shape)}"
    with torch.no_grad():
        if is_sharded(param):
            param.to_local().copy_(_shard_like(full.to(param.dtype), param).to_local())
        else:
            param.copy_(full)


def load_optimizer_state(optimizer, saved: dict) -> None:
    """Load a full (single-process format) optimizer state; sharded parameters get their state re-sharded."""
    params = [p for g in optimizer.param_groups for p in g["params"]]
    if any(is_sharded(p) for p in params):
        state = {}
        for idx, entry in saved["state"].items():
            p = params[int(idx)]
            state[idx] = {k: (_shard_like(v.to(p.dtype), p) if torch.is_tensor(v) and v.dim() > 0
                              and tuple(v.shape) == tuple(p.shape) else v) for k, v in entry.items()}
        saved = {"state": state, "param_groups": saved["param_groups"]}
    optimizer.load_state_dict(saved)
