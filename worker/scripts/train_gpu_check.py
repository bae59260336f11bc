"""GPU check for the trainer (torch 2.x + CUDA): writes a small packed dataset and train params files.

Usage (from the repo root, with ../shared/fixtures present):
  python3 worker/scripts/train_gpu_check.py prepare /tmp/gpucheck
  python3 -m tunekit_worker train --params /tmp/gpucheck/lora.json           # one GPU, bf16 (dtype auto)
  torchrun --nproc_per_node 2 -m tunekit_worker train --params /tmp/gpucheck/lora-ddp.json
  python3 worker/scripts/train_gpu_check.py summarize events.jsonl           # val loss first -> last, tokens/s
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "tests"), os.path.join(HERE, "..")]


def prepare(root: str) -> None:
    from shard_helper import pack_documents, write_shards
    from train_fixtures import MODEL_DIR
    import random
    rng = random.Random(0)
    pattern = [1] + [rng.randrange(259, 512) for _ in range(200)]
    docs = [pattern[:rng.randrange(20, 200)] for _ in range(2200)]
    data = write_shards(os.path.join(root, "data"), {"train": pack_documents(docs[:2000], 256),
                                                     "val": pack_documents(docs[2000:], 256)}, 256)
    base = {"model_dir": MODEL_DIR, "data_dir": data, "method": "lora",
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]},
            "optimizer": {"lr": 0.005}, "schedule": {"type": "cosine", "warmup_steps": 5, "min_lr_ratio": 0.1},
            "batch_size": 16, "grad_accum": 2, "max_steps": 60, "seed": 1, "eval": {"every_steps": 20},
            "early_stopping": {"patience": 3, "min_delta": 0.0},
            "checkpoint": {"every_steps": 20, "keep_last": 2}, "device": "auto", "dtype": "auto", "log_every": 10}
    variants = {
        "lora": {},
        "lora-ddp": {"batch_size": 8},
        "full": {"method": "full", "optimizer": {"lr": 0.0005}, "gradient_checkpointing": True},
    }
    for name, extra in variants.items():
        with open(os.path.join(root, f"{name}.json"), "w") as f:
            json.dump({**base, "output_dir": os.path.join(root, name), **extra}, f, indent=1)
    print(root)


def summarize(path: str) -> None:
    events = [json.loads(line) for line in open(path) if line.startswith("{")]
    vals = [(e["step"], round(e["value"], 4)) for e in events if e.get("name") == "val/loss"]
    tps = [e["tokens_per_s"] for e in events if e["event"] == "progress"]
    end = events[-1]
    print(json.dumps({"val_loss": vals, "tokens_per_s_last": tps[-1] if tps else None, "end": end}))


if __name__ == "__main__":
    {"prepare": prepare, "summarize": summarize}[sys.argv[1]](sys.argv[2])
