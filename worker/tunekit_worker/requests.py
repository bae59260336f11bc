"""The protocol's methods (docs/worker-protocol.md) over the library: train, generate, score, merge."""

from typing import Callable, List

import torch
import torch.nn.functional as F

from .errors import WorkerError
from .parallel import resolve_device

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def _bad(message: str, fix: str) -> WorkerError:
    return WorkerError("WORKER_BAD_PARAMS", message, fix)


def _require_str(params: dict, name: str, method: str, optional: bool = False):
    value = params.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise _bad(f"{method}: {name} must be a folder path, got {value!r}", f"set params.{name}")
    return value


def _token_lists(params: dict, name: str, method: str) -> List[List[int]]:
    value = params.get(name)
    ok = isinstance(value, list) and value and all(
        isinstance(s, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in s) for s in value)
    if not ok:
        raise _bad(f"{method}: {name} must be a non-empty list of token id lists, got {str(value)[:100]}",
                   f"send {name} as [[1, 2, 3], …] (token ids from the model's tokenizer)")
    return value


def _device_dtype(params: dict):
    device, dtype = params.get("device", "auto"), params.get("dtype", "auto")
    if dtype == "float16" and device != "cpu":
        dev, _ = resolve_device(device, "auto")
        return dev, torch.float16
    if dtype not in ("auto", "float32", "bfloat16") or not isinstance(device, str):
        raise _bad(f"device {device!r} / dtype {dtype!r} not supported",
                   "use device auto|cpu|cuda|cuda:N and dtype auto|float32|bfloat16|float16")
    return resolve_device(device, dtype)


class Handlers:
    def __init__(self):
        from .generate import ModelCache
        self.models = ModelCache(capacity=1)

    def train(self, params: dict, emit: Callable[[dict], None]) -> dict:
        from .train import run_training
        self.models.clear()  # free inference memory for training
        return run_training(params, emit)

    def _model(self, params: dict, method: str):
        model_dir = _require_str(params, "model_dir", method)
        adapter_dir = _require_str(params, "adapter_dir", method, optional=True)
        device, dtype = _device_dtype(params)
        return self.models.get(model_dir, adapter_dir, device=device, dtype=dtype)

    def generate(self, params: dict, emit) -> dict:
        from .generate import generate
        prompts = _token_lists(params, "prompts", "generate")
        model = self._model(params, "generate")
        stop_sequences = params.get("stop_sequences") or []
        if stop_sequences:
            stop_sequences = _token_lists(params, "stop_sequences", "generate")
        allowed = params.get("allowed_sequences")
        if allowed is not None:  # [] is sent on as empty, so generate reports it instead of ignoring it
            allowed = _token_lists(params, "allowed_sequences", "generate") if allowed else []
        pad = model.config.pad_token_id if model.config.pad_token_id is not None else 0
        with torch.no_grad():
            outs = generate(model, prompts, max_new_tokens=int(params.get("max_new_tokens", 64)),
                            temperature=float(params.get("temperature", 0.0)), top_p=float(params.get("top_p", 1.0)),
                            seed=params.get("seed"), stop_token_ids=params.get("stop_token_ids") or [],
                            stop_sequences=stop_sequences, pad_token_id=pad, allowed_sequences=allowed)
        return {"outputs": [o.to_json() for o in outs], "prompt_tokens": sum(len(p) for p in prompts),
                "completion_tokens": sum(len(o.ids) for o in outs)}

    def score(self, params: dict, emit) -> dict:
        """Per sequence: the top-5 [token_id, logit] of the last position, and the mean next-token loss."""
        sequences = _token_lists(params, "sequences", "score")
        model = self._model(params, "score")
        vocab = model.config.vocab_size
        if any(not s or min(s) < 0 or max(s) >= vocab for s in sequences):
            raise _bad(f"score: sequences must be non-empty with token ids in [0, {vocab})",
                       "send token ids from this model's tokenizer")
        device = model.model.embed_tokens.weight.device
        top, losses, total, count = [], [], 0.0, 0
        with torch.no_grad():
            for seq in sequences:
                ids = torch.tensor([seq], dtype=torch.long, device=device)  # [1,T]
                hidden = model(ids)  # [1,T,H]
                last = model.logits(hidden[:, -1])[0]  # [V]
                values, indices = last.topk(min(5, vocab))
                top.append([[int(i), float(v)] for i, v in zip(indices.tolist(), values.tolist())])
                if len(seq) > 1:
                    logits = model.logits(hidden[:, :-1])[0]  # [T-1,V]
                    nll = F.cross_entropy(logits, ids[0, 1:], reduction="sum").item()
                    losses.append(nll / (len(seq) - 1))
                    total, count = total + nll, count + len(seq) - 1
                else:
                    losses.append(None)
        return {"logits_last": top, "losses": losses, "loss": total / count if count else None}

    def merge(self, params: dict, emit) -> dict:
        from .lora import merge_to_hf_folder
        model_dir = _require_str(params, "model_dir", "merge")
        adapter_dir = _require_str(params, "adapter_dir", "merge")
        output_dir = _require_str(params, "output_dir", "merge")
        dtype = params.get("dtype")
        if dtype is not None and dtype not in DTYPES:
            raise _bad(f"merge: dtype {dtype!r} not supported", "use float32, bfloat16 or float16 (or leave it out)")
        merge_to_hf_folder(model_dir, adapter_dir, output_dir, dtype=DTYPES.get(dtype))
        return {"output_dir": output_dir}
