"""The protocol's methods (docs/worker-protocol.md) over the library: train, generate, score, merge.

Each handler first resolves its params against the contract (contract/worker-params.schema.json): every problem
is one WORKER_BAD_PARAMS, and omitted params take the contract's defaults, so none are written here."""

from typing import Callable

import torch
import torch.nn.functional as F

from .contract import resolve_params
from .errors import WorkerError
from .parallel import resolve_device

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def _bad(message: str, fix: str) -> WorkerError:
    return WorkerError("WORKER_BAD_PARAMS", message, fix)


def _device_dtype(params: dict):
    """(device, dtype) of an inference request; the schema has checked both names already."""
    device, dtype = params["device"], params["dtype"]
    if dtype == "float16":
        if device == "cpu":
            raise _bad("params.dtype: float16 is not supported on the CPU (got device \"cpu\")",
                       "use dtype auto, float32 or bfloat16 on the CPU; float16 needs a GPU")
        dev, _ = resolve_device(device, "auto")
        return dev, torch.float16
    return resolve_device(device, dtype)


class Handlers:
    def __init__(self):
        from .generate import ModelCache
        self.models = ModelCache(capacity=1)

    def train(self, params: dict, emit: Callable[[dict], None]) -> dict:
        from .train import run_training
        self.models.clear()  # free inference memory for training
        return run_training(params, emit)

    def _model(self, params: dict):
        device, dtype = _device_dtype(params)
        return self.models.get(params["model_dir"], params["adapter_dir"], device=device, dtype=dtype)

    def generate(self, raw: dict, emit) -> dict:
        from .generate import generate
        params = resolve_params("generate", raw)
        prompts = params["prompts"]
        model = self._model(params)
        pad = model.config.pad_token_id if model.config.pad_token_id is not None else 0
        with torch.no_grad():
            outs = generate(model, prompts, max_new_tokens=params["max_new_tokens"],
                            temperature=float(params["temperature"]), top_p=float(params["top_p"]),
                            seed=params["seed"], stop_token_ids=params["stop_token_ids"],
                            stop_sequences=params["stop_sequences"], pad_token_id=pad,
                            allowed_sequences=params["allowed_sequences"])
        return {"outputs": [o.to_json() for o in outs], "prompt_tokens": sum(len(p) for p in prompts),
                "completion_tokens": sum(len(o.ids) for o in outs)}

    def score(self, raw: dict, emit) -> dict:
        """Per sequence: the top-5 [token_id, logit] of the last position, and the mean next-token loss."""
        params = resolve_params("score", raw)
        sequences = params["sequences"]
        model = self._model(params)
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

    def merge(self, raw: dict, emit) -> dict:
        from .lora import merge_to_hf_folder
        params = resolve_params("merge", raw)
        dtype = params["dtype"]
        merge_to_hf_folder(params["model_dir"], params["adapter_dir"], params["output_dir"],
                           dtype=None if dtype is None else DTYPES[dtype])
        return {"output_dir": params["output_dir"]}
