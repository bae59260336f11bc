"""Atomic training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is written into `step-N.tmp-<pid>/`, every file fsynced, then renamed to `step-N/` (a rename within
one folder is atomic), so a crash leaves either the old set or a complete new one; `.tmp-*` leftovers are never
read and are removed by the next save. Contents:
  trainable.safetensors  trainable parameters under the model's own names (exact, any dtype)
  adapter/               PEFT adapter (LoRA runs), usable on its own
  trainer.pt             optimizer + scheduler state, torch CPU/CUDA RNG states
  trainer_state.json     step, data position, python RNG, metrics history, best so far, the params used
"""

import json
import os
import random
import re
import shutil
from typing import Callable, Dict, Optional

import torch

from . import safetensors_io
from .errors import WorkerError
from .sharded_state import copy_into, load_optimizer_state

STEP_DIR = re.compile(r"^step-(\d+)$")
STATE_FILE = "trainer_state.json"


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the rename is still atomic
    finally:
        os.close(fd)


def _fsync_tree(root: str) -> None:
    for dirpath, _, files in os.walk(root):
        for name in files:
            _fsync_path(os.path.join(dirpath, name))
        _fsync_path(dirpath)


def _replace_dir(tmp: str, final: str) -> None:
    """Move a complete folder `tmp` to `final`, replacing any existing `final` without a moment of neither."""
    _fsync_tree(tmp)
    old = None
    if os.path.exists(final):
        old = f"{final}.old-{os.getpid()}"
        os.rename(final, old)
    os.rename(tmp, final)
    _fsync_path(os.path.dirname(final) or ".")
    if old:
        shutil.rmtree(old, ignore_errors=True)


def capture_rng() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict, python_state) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    version, internal, gauss = python_state
    random.setstate((version, tuple(internal), gauss))


def trainable_state(model) -> Dict[str, torch.Tensor]:
    return {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}


def load_trainable(model, path: str) -> None:
    """Copy a checkpoint's trainable.safetensors into `model` (sharded parameters get their rows)."""
    saved = safetensors_io.load_file(os.path.join(path, "trainable.safetensors"))
    params = dict(model.named_parameters())
    missing = sorted(n for n, p in params.items() if p.requires_grad and n not in saved)
    unknown = sorted(n for n in saved if n not in params)
    if missing or unknown:
        raise WorkerError("WORKER_RESUME_MISMATCH",
                          f"checkpoint {path} does not fit this model (missing {missing[:5]}, unexpected "
                          f"{unknown[:5]})", "resume with the same model_dir, method and lora settings")
    for name, tensor in saved.items():
        copy_into(params[name], tensor)


def save_checkpoint(root: str, step: int, trainable: Dict[str, torch.Tensor], optimizer_state: dict, scheduler,
                    state: dict, write_adapter: Optional[Callable[[str], None]], keep_last: int) -> str:
    """Write `root/step-<step>/` atomically and prune to the newest `keep_last`. Returns the final path.

    `trainable` ({name: tensor}) and `optimizer_state` (optimizer.state_dict() format) are full tensors; under
    FSDP the caller gathers them first (sharded_state), so every checkpoint has the single-process format."""
    os.makedirs(root, exist_ok=True)
    final = os.path.join(root, f"step-{step}")
    tmp = f"{final}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    safetensors_io.save_file({k: v.contiguous() for k, v in trainable.items()},
                             os.path.join(tmp, "trainable.safetensors"))
    if write_adapter is not None:
        write_adapter(os.path.join(tmp, "adapter"))
    torch.save({"optimizer": optimizer_state, "scheduler": scheduler.state_dict(), "rng": capture_rng()},
               os.path.join(tmp, "trainer.pt"))
    full_state = dict(state, step=step, python_rng=list(random.getstate()))
    with open(os.path.join(tmp, STATE_FILE), "w", encoding="utf-8") as f:
        json.dump(full_state, f)
    _replace_dir(tmp, final)
    prune(root, keep_last)
    return final


def prune(root: str, keep_last: int) -> None:
    """Keep the newest `keep_last` complete checkpoints; drop older ones and stale temp folders of dead runs."""
    steps = sorted((int(m.group(1)), name) for name in os.listdir(root) if (m := STEP_DIR.match(name)))
    for _, name in steps[:-keep_last] if keep_last > 0 else []:
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)
    for name in os.listdir(root):
        if ".tmp-" in name and not name.endswith(f".tmp-{os.getpid()}"):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def publish_copy(src: str, dest: str) -> None:
    """Atomically make `dest` a copy of checkpoint folder `src` (used for `best/`)."""
    tmp = f"{dest}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    _replace_dir(tmp, dest)


def find_checkpoint(resume_from: str) -> str:
    """`resume_from` is a `step-N` folder, or a run's output_dir / checkpoints folder (newest complete step)."""
    if os.path.isfile(os.path.join(resume_from, STATE_FILE)):
        return resume_from
    for root in (os.path.join(resume_from, "checkpoints"), resume_from):
        if os.path.isdir(root):
            steps = sorted((int(m.group(1)), name) for name in os.listdir(root)
                           if (m := STEP_DIR.match(name)) and os.path.isfile(os.path.join(root, name, STATE_FILE)))
            if steps:
                return os.path.join(root, steps[-1][1])
    raise WorkerError("WORKER_CHECKPOINT_NOT_FOUND", f"no complete checkpoint at {resume_from}",
                      "pass a checkpoints/step-N folder or the output_dir of a run that wrote a checkpoint")


def load_checkpoint(path: str, model, optimizer, scheduler) -> dict:
    """Restore weights, optimizer, scheduler and RNG from `path`; returns trainer_state.json's content."""
    with open(os.path.join(path, STATE_FILE), "r", encoding="utf-8") as f:
        state = json.load(f)
    load_trainable(model, path)
    try:
        blob = torch.load(os.path.join(path, "trainer.pt"), map_location="cpu", weights_only=False)
    except TypeError:  # torch without the weights_only argument
        blob = torch.load(os.path.join(path, "trainer.pt"), map_location="cpu")
    load_optimizer_state(optimizer, blob["optimizer"])
    scheduler.load_state_dict(blob["scheduler"])
    restore_rng(blob["rng"], state["python_rng"])
    return state
