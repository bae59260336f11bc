"""Write a model back out as a Hugging Face model folder (full fine-tuning output, merged LoRA).

The folder is assembled in a temporary sibling and renamed into place, so a crash or a bad input never leaves a
half-written model behind, and an existing non-empty folder is never overwritten.
"""

import json
import os
import shutil
from typing import Optional

import torch

from ..errors import WorkerError
from ..safetensors_io import save_checkpoint
from .moe import to_checkpoint_layout

# Files that describe how to use the weights travel with them; weights, READMEs and anything else specific to the
# source model (evaluation results, fixtures) do not.
_COPIED_FILES = ("generation_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.json",
                 "merges.txt", "vocab.txt", "preprocessor_config.json")


def _is_copied(name: str) -> bool:
    return (name in _COPIED_FILES or name.startswith(("tokenizer", "chat_template", "LICENSE"))
            or name.endswith((".model", ".tiktoken", ".jinja")))
DTYPE_NAMES = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}
MAX_SHARD_BYTES = 5 * 1024 ** 3  # transformers' default max_shard_size


def source_dtype(model_dir: str) -> torch.dtype:
    """The dtype a model folder declares (`torch_dtype` in v4 configs, `dtype` in v5), float32 if none."""
    with open(os.path.join(model_dir, "config.json"), "r", encoding="utf-8") as f:
        raw = json.load(f)
    name = raw.get("dtype") or raw.get("torch_dtype") or "float32"
    return {v: k for k, v in DTYPE_NAMES.items()}.get(name, torch.float32)


def save_hf_folder(model: torch.nn.Module, source_model_dir: str, out_dir: str,
                   dtype: Optional[torch.dtype] = None, max_shard_bytes: int = MAX_SHARD_BYTES,
                   state: Optional[dict] = None) -> str:
    """Save `model`'s weights (which must hold no unmerged LoRA) plus the source folder's non-weight files.

    `state`: the weights to write when they are not `model.state_dict()` as is (gathered from FSDP shards).
    MoE experts are written one Linear per expert, the Hub layout that transformers v4 and v5 both load."""
    state = to_checkpoint_layout(model.state_dict() if state is None else state)
    lora_keys = [k for k in state if ".lora_" in k]
    assert not lora_keys, f"merge LoRA before saving a full model folder (found {lora_keys[:3]})"
    if os.path.isdir(out_dir) and os.listdir(out_dir):
        raise WorkerError("WORKER_OUTPUT_EXISTS", f"output folder {out_dir} already exists and is not empty",
                          "choose a new output_dir or delete the old one first")
    dtype = dtype or source_dtype(source_model_dir)
    tmp = f"{out_dir.rstrip(os.sep)}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        for name in sorted(os.listdir(source_model_dir)):
            src = os.path.join(source_model_dir, name)
            if not os.path.isfile(src) or not (name == "config.json" or _is_copied(name)):
                continue
            if name == "config.json":
                with open(src, "r", encoding="utf-8") as f:
                    raw = json.load(f)
                raw["dtype" if "dtype" in raw else "torch_dtype"] = DTYPE_NAMES.get(dtype, "float32")
                with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
                    json.dump(raw, f, indent=2)
            else:
                shutil.copyfile(src, os.path.join(tmp, name))
        tensors = {k: v.detach().to("cpu", dtype) if v.is_floating_point() else v.detach().cpu()
                   for k, v in state.items()}
        save_checkpoint(tensors, tmp, max_shard_bytes=max_shard_bytes)
        if os.path.isdir(out_dir):
            os.rmdir(out_dir)  # empty (checked above)
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
