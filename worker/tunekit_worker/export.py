"""The run's final outputs: `<output_dir>/adapter/` (PEFT) for LoRA, `<output_dir>/model/` (HF folder) for full."""

import os
import shutil
from typing import Optional

from .checkpoint import _replace_dir, load_trainable
from .sharded_state import full_model_state


def export_final(p, model, lora_cfg, best_dir: Optional[str], is_main: bool, sharded: bool = False) -> dict:
    """Write the exported model (the best checkpoint's weights when `best_dir` is given). Returns its paths.

    A re-export (a resumed run finishing) replaces the previous output folder atomically. Under FSDP (`sharded`)
    every rank takes part in gathering the weights; rank 0 writes."""
    if best_dir is not None:
        load_trainable(model, best_dir)
    state = full_model_state(model, is_main) if sharded else None
    if not is_main:
        return {}
    if lora_cfg is not None:
        from .lora import save_peft_adapter
        out = os.path.join(p.output_dir, "adapter")
        tmp = f"{out}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        save_peft_adapter(model, tmp, p.model_dir, lora_cfg)
        _replace_dir(tmp, out)
        return {"adapter_dir": out}
    from .models.hf_folder import save_hf_folder
    out = os.path.join(p.output_dir, "model")
    staged = os.path.join(p.output_dir, f"model.new-{os.getpid()}")
    shutil.rmtree(staged, ignore_errors=True)
    save_hf_folder(model, p.model_dir, staged, state=state)
    _replace_dir(staged, out)
    return {"model_dir": out}
