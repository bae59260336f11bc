"""Shared inputs for the training tests: the real stories260k model and a small learnable packed dataset."""

import os
import random

from shard_helper import pack_documents, write_shards

MODEL_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "fixtures",
                                          "models", "stories260k"))


def write_pattern_dataset(out_dir: str, seq_len: int = 32, train_docs: int = 64, val_docs: int = 16) -> str:
    """Documents are prefixes of one fixed token sequence: a pattern LoRA can learn in a few dozen steps."""
    rng = random.Random(0)
    pattern = [1] + [rng.randrange(259, 512) for _ in range(24)]
    docs = [pattern[:rng.randrange(8, 25)] for _ in range(train_docs + val_docs)]
    return write_shards(out_dir, {"train": pack_documents(docs[:train_docs], seq_len),
                                  "val": pack_documents(docs[train_docs:], seq_len)}, seq_len)


def train_params(data_dir: str, output_dir: str, **overrides) -> dict:
    params = {"model_dir": MODEL_DIR, "data_dir": data_dir, "output_dir": output_dir, "method": "lora",
              "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]},
              "optimizer": {"lr": 0.01}, "schedule": {"type": "cosine", "warmup_steps": 2},
              "batch_size": 4, "max_steps": 12, "seed": 7, "eval": {"every_steps": 4},
              "checkpoint": {"every_steps": 4, "keep_last": 10}, "device": "cpu", "dtype": "float32"}
    params.update(overrides)
    return params


class Recorder:
    def __init__(self):
        self.events = []

    def __call__(self, event: dict) -> None:
        self.events.append(event)

    def of(self, kind: str, name: str = None) -> list:
        return [e for e in self.events if e["event"] == kind and (name is None or e.get("name") == name)]

    def losses(self) -> dict:
        return {e["step"]: e["loss"] for e in self.of("progress")}
