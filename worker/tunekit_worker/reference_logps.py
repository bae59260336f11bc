"""DPO's reference log-probs: computed once, in one pass over every train and val pair, and cached.

The reference is the frozen base model: for LoRA the same model with its adapters switched off (scaling 0), for
full fine-tuning the model as loaded, before any step or resume restores trained weights. The cache is
`<output_dir>/reference-logps.safetensors`: per split a [pairs, 2] float32 tensor (chosen, rejected summed
completion log-probs, row i = pair i), under a key hashing the shard header (its per-file sha256s) and the base
model's config and weight files. A resumed run, or a new run over the same data and base, reads it back; a
different key recomputes it.
"""

import hashlib
import os
from contextlib import contextmanager
from typing import Dict

import torch

from .models.attention import positions_from_segments
from .safetensors_io import load_file, read_metadata, save_file

CACHE_FILE = "reference-logps.safetensors"
PASSES = {"count": 0}  # reference passes run in this process (tests assert a resume runs none)


def reference_key(data_dir: str, model_dir: str) -> str:
    """sha256 over header.json's bytes and the base model's config.json plus each weight file's name and size."""
    h = hashlib.sha256()
    with open(os.path.join(data_dir, "header.json"), "rb") as f:
        h.update(f.read())
    with open(os.path.join(model_dir, "config.json"), "rb") as f:
        h.update(f.read())
    for name in sorted(os.listdir(model_dir)):
        if name.endswith(".safetensors"):
            h.update(f"{name}:{os.path.getsize(os.path.join(model_dir, name))}".encode())
    return h.hexdigest()


@contextmanager
def adapters_disabled(model):
    """LoRA adds nothing inside (scaling 0): the base model's outputs, without copying weights."""
    from .lora import lora_modules
    mods = list(lora_modules(model).values())
    saved = [m.scaling for m in mods]
    try:
        for m in mods:
            m.scaling = 0.0
        yield
    finally:
        for m, s in zip(mods, saved):
            m.scaling = s


def compute_split(module, split, batch_size: int, device) -> torch.Tensor:
    """[pairs, 2] summed completion log-probs of one split under `module` (a PreferenceModule), no grad."""
    pairs = split.sequences // 2
    out = torch.empty(pairs, 2, dtype=torch.float32)
    with torch.no_grad():
        for start in range(0, pairs, batch_size):
            idx = list(range(start, min(pairs, start + batch_size)))
            b = {k: v.to(device) for k, v in split.rows([r for i in idx for r in (2 * i, 2 * i + 1)]).items()}
            logps, _ = module(b["tokens"], b["mask"], b["segments"], positions_from_segments(b["segments"]))
            out[start:start + len(idx)] = logps.float().cpu().view(-1, 2)
    return out


def load_or_compute(module, splits: Dict[str, object], batch_size: int, device, output_dir: str, key: str,
                    lora: bool, write: bool, say) -> Dict[str, torch.Tensor]:
    """{split name: [pairs, 2]} from the cache when its key matches, else one pass (then cached when `write`)."""
    path = os.path.join(output_dir, CACHE_FILE)
    wanted = {name: s for name, s in splits.items() if s is not None}
    if os.path.exists(path) and read_metadata(path).get("key") == key:
        cached = load_file(path)
        if all(name in cached and cached[name].shape[0] == s.sequences // 2 for name, s in wanted.items()):
            say({"event": "log", "level": "info", "message": f"reference log-probs read from {path}"})
            return {name: cached[name] for name in wanted}
    PASSES["count"] += 1
    model = module.model
    was_training = model.training
    model.eval()
    try:
        with adapters_disabled(model) if lora else _nothing():
            result = {name: compute_split(module, s, batch_size, device) for name, s in wanted.items()}
    finally:
        model.train(was_training)
    if write:
        os.makedirs(output_dir, exist_ok=True)
        save_file(result, path, metadata={"key": key})  # atomic (temp file + rename)
    say({"event": "log", "level": "info", "message": f"reference log-probs computed for "
         f"{sum(t.shape[0] for t in result.values())} pairs and cached in {path}"})
    return result


@contextmanager
def _nothing():
    yield
