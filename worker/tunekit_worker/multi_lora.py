"""Several LoRA adapters on one base model, chosen per row of a batch (serving: an A/B test of two fine-tunes on
one GPU, the base model itself as a third variant).

Nothing is merged: every targeted projection keeps its base weight and gains the stacked adapters, and each
forward gathers the row's adapter from an index tensor. Index 0 is the base model (zero adapter), adapter k
(1-based, in load order) is index k. Adapters of different ranks are zero-padded to the largest rank (padding
adds exact zeros); a projection that an adapter does not target holds zeros for it.
"""

import os
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .errors import WorkerError
from .lora import ADAPTER_WEIGHTS, PEFT_PREFIX, read_adapter_config
from .safetensors_io import load_file


class AdapterIndex:
    """The per-row adapter indices [B] every MultiLoraLinear of one model reads. `rows` is a static buffer (a
    captured CUDA graph reads its address); set() copies into a prefix of it and `current` is that prefix."""

    def __init__(self, rows: int, device):
        self.rows = torch.zeros(rows, dtype=torch.long, device=device)  # [max_batch]
        self.current = self.rows[:1]

    def set(self, indices: torch.Tensor) -> None:
        n = indices.shape[0]
        self.rows[:n].copy_(indices)
        self.current = self.rows[:n]

    def use(self, n: int) -> None:
        """Read the first n entries (already written) without copying: a decode bucket of n rows."""
        self.current = self.rows[:n]


class MultiLoraLinear(nn.Module):
    def __init__(self, base: nn.Linear, a: torch.Tensor, b: torch.Tensor, scale: torch.Tensor, index: AdapterIndex):
        super().__init__()
        self.weight, self.bias = base.weight, base.bias  # same names as nn.Linear: base checkpoint keys unchanged
        self.lora_a = a          # [N+1,in,r]  (index 0: zeros, the base model)
        self.lora_b = b          # [N+1,r,out]
        self.lora_scale = scale  # [N+1]  alpha/r (or alpha/sqrt(r) for rsLoRA) per adapter
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.linear(x, self.weight, self.bias)      # x [B,T,in] -> [B,T,out]
        idx = self.index.current                        # [B]
        assert idx.shape[0] == x.shape[0], f"adapter index has {idx.shape[0]} rows, the batch {x.shape[0]}"
        a = torch.bmm(x, self.lora_a[idx])              # [B,T,in] @ [B,in,r] -> [B,T,r]
        delta = torch.bmm(a, self.lora_b[idx])          # [B,T,r] @ [B,r,out] -> [B,T,out]
        return out + delta * self.lora_scale[idx][:, None, None]


def install_adapters(model: nn.Module, adapters: Dict[str, str], max_rows: int) -> Dict[str, int]:
    """Wrap every projection that some adapter targets; return name -> index (1-based; None/base = 0)."""
    device, dtype = model.model.embed_tokens.weight.device, model.model.embed_tokens.weight.dtype
    loaded: List[tuple] = []  # (name, scale, {module: (A [r,in], B [out,r])})
    for name, folder in adapters.items():
        cfg = read_adapter_config(folder)
        path = os.path.join(folder, ADAPTER_WEIGHTS)
        if not os.path.exists(path):
            raise WorkerError("WORKER_ADAPTER_NOT_FOUND", f"adapter {name!r}: no {ADAPTER_WEIGHTS} in {folder}",
                              "point the adapter at a PEFT LoRA folder (e.g. <output_dir>/adapter)")
        weights = {k.replace(".lora_A.default.", ".lora_A.").replace(".lora_B.default.", ".lora_B."): v
                   for k, v in load_file(path).items()}
        modules: Dict[str, tuple] = {}
        for key, tensor in weights.items():
            if key.endswith(".lora_A.weight") and key.startswith(PEFT_PREFIX):
                module = key[len(PEFT_PREFIX):-len(".lora_A.weight")]
                b_key = f"{PEFT_PREFIX}{module}.lora_B.weight"
                if b_key not in weights:
                    raise WorkerError("WORKER_ADAPTER_MISMATCH", f"adapter {name!r}: {key} has no {b_key}",
                                      "re-save the adapter: its safetensors file is incomplete")
                modules[module] = (tensor, weights[b_key])
        loaded.append((name, cfg.scaling, modules))
    if not loaded:
        return {}
    linears = {n: m for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    targeted = sorted({m for _, _, mods in loaded for m in mods})
    unknown = [m for m in targeted if m not in linears]
    if unknown:
        raise WorkerError("WORKER_ADAPTER_MISMATCH", f"adapters target layers this model lacks: {unknown[:5]}",
                          "serve adapters trained on this base model (adapter_config.json base_model_name_or_path)")
    index = AdapterIndex(max_rows, device)
    rank = max(a.shape[0] for _, _, mods in loaded for a, _ in mods.values())
    scale = torch.tensor([0.0] + [s for _, s, _ in loaded], dtype=dtype, device=device)  # [N+1]
    with torch.no_grad():
        for module in targeted:
            lin = linears[module]
            a = torch.zeros(len(loaded) + 1, lin.in_features, rank, dtype=dtype, device=device)   # [N+1,in,r]
            b = torch.zeros(len(loaded) + 1, rank, lin.out_features, dtype=dtype, device=device)  # [N+1,r,out]
            for k, (name, _, mods) in enumerate(loaded, start=1):
                if module not in mods:
                    continue
                la, lb = mods[module]  # [r,in], [out,r]
                if la.shape[1] != lin.in_features or lb.shape[0] != lin.out_features:
                    raise WorkerError("WORKER_ADAPTER_MISMATCH",
                                      f"adapter {name!r}: {module} is [{lb.shape[0]}x{la.shape[1]}], the model's "
                                      f"[{lin.out_features}x{lin.in_features}]",
                                      "serve adapters trained on this base model")
                a[k, :, :la.shape[0]] = la.t().to(dtype)
                b[k, :lb.shape[1], :] = lb.t().to(dtype)
            parent, child = module.rsplit(".", 1)
            setattr(model.get_submodule(parent), child, MultiLoraLinear(lin, a, b, scale, index))
    model.adapter_index = index
    return {name: k for k, (name, _, _) in enumerate(loaded, start=1)}


def select_adapters(model: nn.Module, indices: Optional[torch.Tensor]) -> None:
    """Set the per-row adapter indices [B] for the next forward (no-op on a model without adapters)."""
    index: Optional[AdapterIndex] = getattr(model, "adapter_index", None)
    if index is not None and indices is not None:
        index.set(indices)
