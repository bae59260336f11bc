"""Loading a Hugging Face checkpoint (config.json + safetensors, single or sharded) into the decoder (llama.py).

Keys must match strictly; a checkpoint without lm_head.weight gets tied embeddings; MoE experts saved one Linear
per expert fill the fused expert parameters (models/moe.py); QLoRA quantizes each weight as it is read.
"""

from typing import TYPE_CHECKING, Dict, List, Optional

import torch

from .moe import checkpoint_sources

if TYPE_CHECKING:
    from .llama import CausalLM


def _mismatch_error(model_dir: str, missing: List[str], unexpected: List[str], shapes: List[str]):
    from ..errors import WorkerError

    def show(names):
        return ", ".join(names[:8]) + (f" … ({len(names)} total)" if len(names) > 8 else "")

    parts = []
    if missing:
        parts.append(f"missing keys: {show(missing)}")
    if unexpected:
        parts.append(f"unexpected keys: {show(unexpected)}")
    if shapes:
        parts.append(f"shape mismatches: {show(shapes)}")
    return WorkerError(
        "WORKER_CHECKPOINT_MISMATCH",
        f"the weights in {model_dir} do not match its config.json ({config_name(model_dir)}): " + "; ".join(parts),
        "make sure config.json belongs to these weights (same architecture and sizes) and that the checkpoint "
        "is a plain Hugging Face causal LM (not quantized, not an adapter folder)",
    )


def config_name(model_dir: str) -> str:
    import os
    return os.path.join(model_dir, "config.json")


def load_model(model_dir: str, device="cpu", dtype: torch.dtype = torch.float32, quantize: Optional[str] = None,
               quantize_targets=(), double_quant: bool = False) -> "CausalLM":
    """Build the model from config.json and load its safetensors (single or sharded) with strict key matching.

    The model is first built on the meta device (no memory, no random init), then materialised on `device`, and
    each tensor is copied from the memory-mapped file, so peak memory is about one model in `dtype`.
    quantize "nf4" (QLoRA): the decoder projections named in `quantize_targets` become NF4Linear before anything
    is materialised, and each checkpoint weight is quantized on `device` as it is read, so the 16-bit model never
    exists on the device (peak: the quantized model + one dense weight).
    """
    from .config import load_config
    from .llama import CausalLM  # here, not at the top: llama.py re-exports load_model from this module
    from ..safetensors_io import list_checkpoint_files, load_file

    cfg = load_config(model_dir)
    files = list_checkpoint_files(model_dir)
    # A checkpoint without lm_head.weight shares the embedding (also when config.json forgot to say so).
    tied = cfg.tie_word_embeddings or "lm_head.weight" not in files
    model = CausalLM(cfg, device="meta", dtype=dtype, tied=tied)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    # Which checkpoint tensors fill each parameter, and where: itself, or (MoE experts saved one Linear per
    # expert) E slices of a fused [E,…] parameter.
    sources = {name: checkpoint_sources(name, shape, files) or [(name, ())] for name, shape in expected.items()}
    used = {key for srcs in sources.values() for key, _ in srcs}
    # Ignored: the tied duplicate, and RoPE frequency buffers that some old checkpoints saved.
    ignored = {k for k in files if k.endswith("rotary_emb.inv_freq") or (tied and k == "lm_head.weight")}
    missing = sorted(key for key in used if key not in files)
    unexpected = sorted(set(files) - used - ignored)
    if missing or unexpected:
        raise _mismatch_error(model_dir, missing, unexpected, [])
    quantized = {}  # checkpoint weight name -> the NF4Linear that quantizes it
    if quantize == "nf4":
        from ..quant.nf4 import quantize_model_projections
        names = dict(model.named_modules())
        quantize_model_projections(model, quantize_targets, double_quant, dense=False)
        quantized = {f"{n}.weight": m for n, m in model.named_modules() if n in names and m is not names[n]}
    model = model.to_empty(device=device)
    by_file: Dict[str, List[tuple]] = {}
    for name, srcs in sources.items():
        for key, index in srcs:
            by_file.setdefault(files[key], []).append((key, name, index))
    params = dict(model.named_parameters())
    shapes = []
    with torch.no_grad():
        for path, entries in sorted(by_file.items()):
            tensors = load_file(path, [key for key, _, _ in entries])
            for key, name, index in entries:
                if name in quantized:
                    q = quantized[name]
                    if tuple(tensors[key].shape) != (q.out_features, q.in_features):
                        shapes.append(f"{key} {list(tensors[key].shape)} != {[q.out_features, q.in_features]}")
                    else:
                        q.load_dense(tensors[key])
                    continue
                target = params[name][index]  # a view: copying into it fills the parameter in place
                tensor = tensors[key]
                if tuple(tensor.shape) != tuple(target.shape):
                    shapes.append(f"{key} {list(tensor.shape)} != {list(target.shape)}")
                    continue
                target.copy_(tensor)  # converts dtype and moves to device
    if shapes:
        raise _mismatch_error(model_dir, [], [], shapes)
    model._inv_freq = {}
    return model.eval()
