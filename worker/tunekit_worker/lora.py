"""LoRA adapters compatible with PEFT: same init, same scaling, same saved file layout and key names.

A wrapped projection keeps its frozen base `weight`/`bias` under the same names (so base checkpoint keys do not
change) and adds `lora_A` [r,in] and `lora_B` [out,r]: y = x W^T + b + (dropout(x) A^T B^T) * scaling.
"""

import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from .contract import model_support
from .errors import WorkerError
from .json_file import read_json_object
from .quant.nf4 import NF4Linear
from .safetensors_io import load_file, save_file

# The one list (contract/model-support.json): the params schema and TypeScript's train spec carry the same names.
LORA_TARGETS = tuple(model_support()["lora_target_modules"])
PEFT_PREFIX = "base_model.model."  # PEFT's PeftModel -> LoraModel -> the HF model
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
# Beside a QLoRA run's adapter (PEFT ignores it): how the base was quantized, so a merge folds the adapter into the
# same dequantized weights it was trained against.
QUANTIZATION_FILE = "tunekit_quantization.json"


@dataclass
class LoraConfig:
    r: int = 8
    alpha: float = 16.0
    dropout: float = 0.0
    target_modules: Union[List[str], str] = field(default_factory=lambda: ["q_proj", "v_proj"])
    use_rslora: bool = False

    @property
    def scaling(self) -> float:
        # rsLoRA (Kalajdzievski 2023) keeps the update's scale stable across ranks: alpha / sqrt(r).
        return self.alpha / math.sqrt(self.r) if self.use_rslora else self.alpha / self.r


class LoraLinear(nn.Module):
    def __init__(self, base: Union[nn.Linear, NF4Linear], r: int, scaling: float, dropout: float,
                 lora_dtype: torch.dtype = torch.float32, generator: Optional[torch.Generator] = None):
        super().__init__()
        self.in_features, self.out_features = base.in_features, base.out_features
        # QLoRA: the frozen base is an NF4Linear kept as a submodule (`base_layer`, PEFT's name); the adapter
        # keys do not change, they are named after this module.
        self.base_layer = base if isinstance(base, NF4Linear) else None
        if self.base_layer is None:
            self.weight = base.weight  # frozen base parameters, same names as nn.Linear
            self.bias = base.bias
        dev = base.packed.device if self.base_layer is not None else base.weight.device
        # Adapters stay float32 on a bf16 base (PEFT's autocast_adapter_dtype): stable updates and optimizer state.
        self.lora_A = nn.Parameter(torch.empty(r, self.in_features, device=dev, dtype=lora_dtype))
        self.lora_B = nn.Parameter(torch.zeros(self.out_features, r, device=dev, dtype=lora_dtype))
        # PEFT: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)); written out to accept a generator.
        bound = 1.0 / math.sqrt(self.in_features)
        with torch.no_grad():
            self.lora_A.uniform_(-bound, bound, generator=generator)
        self.scaling = scaling
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base_layer(x) if self.base_layer is not None else F.linear(x, self.weight, self.bias)  # [..., out]
        # The adapter runs in the activation dtype: the float32 weights (kept for the optimizer) are cast, which
        # is cheap ([r,in] + [out,r]), instead of upcasting x [..., in] and the [..., out] sum to float32 (3 extra
        # passes over the activations and a float32 copy of x kept for backward). Same result in float32.
        dt = out.dtype
        a = F.linear(self.dropout(x), self.lora_A.to(dt))  # [..., r]
        return out + F.linear(a, self.lora_B.to(dt)) * self.scaling

    def merged_linear(self) -> nn.Linear:
        """A plain nn.Linear holding W + scaling * B A (computed in float32, stored in the base dtype).
        QLoRA: W is the dequantized NF4 base (the weights the adapter was trained against)."""
        if self.base_layer is not None:
            weight, bias, dtype = self.base_layer.dense_weight(torch.float32), self.base_layer.bias, self.base_layer.dtype
        else:
            weight, bias, dtype = self.weight, self.bias, self.weight.dtype
        lin = nn.Linear(self.in_features, self.out_features, bias=bias is not None, device=weight.device, dtype=dtype)
        with torch.no_grad():
            delta = (self.lora_B.float() @ self.lora_A.float()) * self.scaling  # [out,in]
            lin.weight.copy_((weight.float() + delta).to(dtype))
            if bias is not None:
                lin.bias.copy_(bias)
        return lin


def _targets_match(cfg: LoraConfig, full_name: str) -> bool:
    if isinstance(cfg.target_modules, str):
        if cfg.target_modules == "all-linear":
            return full_name.rsplit(".", 1)[-1] in LORA_TARGETS
        return re.fullmatch(cfg.target_modules, full_name) is not None  # PEFT treats a string as a regex
    return full_name.rsplit(".", 1)[-1] in cfg.target_modules


def validate_lora_config(cfg: LoraConfig) -> None:
    problems = []
    if not isinstance(cfg.r, int) or cfg.r <= 0:
        problems.append(f"r must be a positive integer, got {cfg.r!r}")
    if not 0.0 <= cfg.dropout < 1.0:
        problems.append(f"dropout must be in [0, 1), got {cfg.dropout!r}")
    if isinstance(cfg.target_modules, list):
        bad = [t for t in cfg.target_modules if t not in LORA_TARGETS]
        if bad or not cfg.target_modules:
            problems.append(f"target_modules {cfg.target_modules!r} must be a non-empty subset of {list(LORA_TARGETS)}")
    if problems:
        raise WorkerError("WORKER_INVALID_CONFIG", "invalid LoRA config: " + "; ".join(problems),
                          f"set lora.r > 0, 0 <= lora.dropout < 1 and lora.target_modules from {list(LORA_TARGETS)}")


def apply_lora(model: nn.Module, cfg: LoraConfig, generator: Optional[torch.Generator] = None,
               lora_dtype: torch.dtype = torch.float32) -> int:
    """Freeze every parameter, wrap the matching projections, return the number of trainable (LoRA) parameters."""
    validate_lora_config(cfg)
    for p in model.parameters():
        p.requires_grad_(False)
    targets = [(name, m) for name, m in model.named_modules()
               if isinstance(m, (nn.Linear, NF4Linear)) and not name.endswith(".base_layer")
               and _targets_match(cfg, name)]
    if not targets:
        raise WorkerError("WORKER_INVALID_CONFIG", f"LoRA target_modules {cfg.target_modules!r} match no layer",
                          f"use names from {list(LORA_TARGETS)}")
    for name, lin in targets:
        parent_name, child = name.rsplit(".", 1)
        wrapped = LoraLinear(lin, cfg.r, cfg.scaling, cfg.dropout, lora_dtype, generator)
        setattr(model.get_submodule(parent_name), child, wrapped)
    model.lora_config = cfg
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def lora_modules(model: nn.Module) -> Dict[str, LoraLinear]:
    return {name: m for name, m in model.named_modules() if isinstance(m, LoraLinear)}


def lora_state_dict(model: nn.Module) -> Dict[str, torch.Tensor]:
    """LoRA weights under PEFT's saved key names (adapter name removed), e.g.
    base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight [r,in] / .lora_B.weight [out,r]."""
    out = {}
    for name, m in lora_modules(model).items():
        out[f"{PEFT_PREFIX}{name}.lora_A.weight"] = m.lora_A.detach()
        out[f"{PEFT_PREFIX}{name}.lora_B.weight"] = m.lora_B.detach()
    return out


def load_lora_state_dict(model: nn.Module, state: Dict[str, torch.Tensor], source: str = "adapter") -> None:
    """Copy PEFT-named LoRA weights into an already wrapped model; every key and shape must match."""
    # PEFT files saved with a named adapter may keep ".default" in the key; accept both spellings.
    state = {k.replace(".lora_A.default.", ".lora_A.").replace(".lora_B.default.", ".lora_B."): v
             for k, v in state.items()}
    expected = lora_state_dict(model)
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    shapes = [f"{k} {list(state[k].shape)} != {list(v.shape)}" for k, v in expected.items()
              if k in state and state[k].shape != v.shape]
    if missing or unexpected or shapes:
        raise WorkerError(
            "WORKER_ADAPTER_MISMATCH",
            f"{source} does not fit this model: missing {missing[:5]} ({len(missing)}), "
            f"unexpected {unexpected[:5]} ({len(unexpected)}), shape mismatches {shapes[:5]}",
            "load the adapter on the base model it was trained from (adapter_config.json base_model_name_or_path)",
        )
    with torch.no_grad():
        for name, m in lora_modules(model).items():
            m.lora_A.copy_(state[f"{PEFT_PREFIX}{name}.lora_A.weight"])
            m.lora_B.copy_(state[f"{PEFT_PREFIX}{name}.lora_B.weight"])


def peft_adapter_config(cfg: LoraConfig, base_model_name_or_path: str) -> dict:
    """adapter_config.json as PEFT's LoraConfig.save_pretrained writes it (fields PEFT 0.x knows)."""
    targets = sorted(cfg.target_modules) if isinstance(cfg.target_modules, list) else cfg.target_modules
    return {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": base_model_name_or_path,
        "bias": "none", "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True,
        "layer_replication": None, "layers_pattern": None, "layers_to_transform": None, "loftq_config": {},
        "lora_alpha": cfg.alpha, "lora_dropout": cfg.dropout, "megatron_config": None,
        "megatron_core": "megatron.core", "modules_to_save": None, "peft_type": "LORA", "r": cfg.r,
        "rank_pattern": {}, "revision": None, "target_modules": targets, "task_type": "CAUSAL_LM",
        "use_dora": False, "use_rslora": cfg.use_rslora,
    }


def save_peft_adapter(model: nn.Module, out_dir: str, base_model_name_or_path: str,
                      cfg: Optional[LoraConfig] = None) -> str:
    cfg = cfg or model.lora_config
    os.makedirs(out_dir, exist_ok=True)
    save_file({k: v.contiguous() for k, v in lora_state_dict(model).items()},
              os.path.join(out_dir, ADAPTER_WEIGHTS), {"format": "pt"})
    files = {ADAPTER_CONFIG: peft_adapter_config(cfg, base_model_name_or_path)}
    quantized = [m.base_layer for m in lora_modules(model).values() if m.base_layer is not None]
    if quantized:
        files[QUANTIZATION_FILE] = {"quantize": "nf4", "double_quant": quantized[0].double_quant, "block_size": 64}
    for name, content in files.items():
        path = os.path.join(out_dir, name)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(content, f, indent=2, sort_keys=True)
        os.replace(path + ".tmp", path)
    return out_dir


def read_quantization(adapter_dir: str) -> Optional[dict]:
    """The QLoRA sidecar of an adapter folder, or None for a plain LoRA adapter."""
    path = os.path.join(adapter_dir, QUANTIZATION_FILE)
    if not os.path.exists(path):
        return None
    return read_json_object(path, ("WORKER_ADAPTER_NOT_FOUND", f"cannot read {path}", "re-save the adapter"),
                            ("WORKER_INVALID_CONFIG", f"re-save the adapter: its {QUANTIZATION_FILE} is damaged"))


def read_adapter_config(adapter_dir: str) -> LoraConfig:
    path = os.path.join(adapter_dir, ADAPTER_CONFIG)
    raw = read_json_object(path, ("WORKER_ADAPTER_NOT_FOUND", f"no {ADAPTER_CONFIG} in {adapter_dir}",
                                   "point adapter_dir at a PEFT LoRA adapter folder (e.g. <output_dir>/adapter)"),
                           ("WORKER_INVALID_CONFIG", f"re-save the adapter: its {ADAPTER_CONFIG} is damaged"))
    unsupported = []
    if raw.get("peft_type", "LORA") != "LORA":
        unsupported.append(f"peft_type {raw.get('peft_type')!r}")
    if raw.get("use_dora"):
        unsupported.append("use_dora")
    if raw.get("bias", "none") != "none":
        unsupported.append(f"bias {raw.get('bias')!r}")
    for key in ("rank_pattern", "alpha_pattern", "modules_to_save", "layers_to_transform", "layer_replication"):
        if raw.get(key):
            unsupported.append(key)
    if raw.get("fan_in_fan_out"):
        unsupported.append("fan_in_fan_out")
    if unsupported:
        raise WorkerError("WORKER_ADAPTER_UNSUPPORTED", f"{path} uses unsupported PEFT options: {unsupported}",
                          "use a plain LoRA adapter (no DoRA, bias 'none', no rank/alpha patterns or modules_to_save)")
    return LoraConfig(r=int(raw["r"]), alpha=float(raw.get("lora_alpha", 8)), dropout=float(raw.get("lora_dropout", 0.0)),
                      target_modules=raw.get("target_modules") or ["q_proj", "v_proj"],
                      use_rslora=bool(raw.get("use_rslora", False)))


def load_peft_adapter(model: nn.Module, adapter_dir: str) -> LoraConfig:
    """Wrap `model` per the adapter's config and load its weights (a saved adapter round-trips exactly)."""
    cfg = read_adapter_config(adapter_dir)
    weights = os.path.join(adapter_dir, ADAPTER_WEIGHTS)
    if not os.path.exists(weights):
        raise WorkerError("WORKER_ADAPTER_NOT_FOUND", f"no {ADAPTER_WEIGHTS} in {adapter_dir}",
                          "re-save the adapter in safetensors format (PEFT: save_pretrained(safe_serialization=True))")
    if not lora_modules(model):
        apply_lora(model, cfg)
    load_lora_state_dict(model, load_file(weights), source=weights)
    return cfg


def load_init_adapter(model: nn.Module, adapter_dir: str, cfg: LoraConfig) -> None:
    """init_adapter: a LoRA run starts from a saved adapter's weights. The run's r, alpha, targets and rsLoRA must
    equal the adapter's (the spec decides, the adapter is checked against it), so the run's saved adapter means
    what its spec says; a mismatch lists every difference."""
    saved = read_adapter_config(adapter_dir)
    norm = lambda t: t if isinstance(t, str) else sorted(t)  # noqa: E731 - order of target names is irrelevant
    diffs = [f"{key}: run {mine!r}, adapter {theirs!r}" for key, mine, theirs in (
        ("r", cfg.r, saved.r), ("alpha", float(cfg.alpha), saved.alpha),
        ("target_modules", norm(cfg.target_modules), norm(saved.target_modules)),
        ("use_rslora", cfg.use_rslora, saved.use_rslora)) if mine != theirs]
    if diffs:
        raise WorkerError("WORKER_ADAPTER_MISMATCH", f"init_adapter {adapter_dir} does not match this run's lora "
                          f"settings: {'; '.join(diffs)}", "set lora r, alpha, targetModules and useRslora to the "
                          "adapter's values (its adapter_config.json)")
    weights = os.path.join(adapter_dir, ADAPTER_WEIGHTS)
    if not os.path.exists(weights):
        raise WorkerError("WORKER_ADAPTER_NOT_FOUND", f"no {ADAPTER_WEIGHTS} in {adapter_dir}",
                          "re-save the adapter in safetensors format (PEFT: save_pretrained(safe_serialization=True))")
    load_lora_state_dict(model, load_file(weights), source=weights)


def merge_lora(model: nn.Module) -> nn.Module:
    """Fold every LoRA update into its base weight and unwrap back to nn.Linear (PEFT's merge_and_unload)."""
    for name, m in lora_modules(model).items():
        parent_name, child = name.rsplit(".", 1)
        setattr(model.get_submodule(parent_name), child, m.merged_linear())
    if hasattr(model, "lora_config"):
        del model.lora_config
    return model


def merge_to_hf_folder(model_dir: str, adapter_dir: str, out_dir: str, dtype: Optional[torch.dtype] = None,
                       device="cpu") -> str:
    """Base model + adapter -> a standalone HF folder (config, tokenizer files, merged safetensors).

    Merging happens in float32 whatever the saved dtype (default: the base model's own dtype), so rounding happens
    once, at the end. A QLoRA adapter (tunekit_quantization.json beside it) is merged into the base quantized as in
    training and dequantized: W' = dequant(nf4(W)) + scaling * B A, the weights its loss was measured on."""
    from .models.hf_folder import save_hf_folder
    from .models.loading import load_model

    quant = read_quantization(adapter_dir)
    if quant is not None:
        model = load_model(model_dir, device=device, dtype=torch.float32, quantize=quant["quantize"],
                           quantize_targets=LORA_TARGETS, double_quant=bool(quant.get("double_quant")))
    else:
        model = load_model(model_dir, device=device, dtype=torch.float32)
    load_peft_adapter(model, adapter_dir)
    merge_lora(model)
    if quant is not None:  # projections the adapter did not target are still NF4: save them dequantized
        from .quant.nf4 import dequantize_model_projections
        dequantize_model_projections(model)
    return save_hf_folder(model, model_dir, out_dir, dtype=dtype)
