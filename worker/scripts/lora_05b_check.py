"""GPU check: LoRA on a 0.5B-class random-init Qwen2-like model trains stably (bf16, CUDA).

Usage (repo root, on the GPU machine):  python3 worker/scripts/lora_05b_check.py /tmp/lora05b [$OUT]

The data is a learnable synthetic language over 64 token ids (each token has 4 possible successors), so a
working trainer must take the loss from ln(151,936) ≈ 11.9 towards ln(4) ≈ 1.39 (ln 64 ≈ 4.16 once it has
learned which ids occur at all); NaN/inf or a loss that does not fall is a failure.
"""

import json
import os
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "tests"), os.path.join(HERE, "..")]

CONFIG = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896,
          "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
          "hidden_act": "silu", "max_position_embeddings": 4096, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
          "tie_word_embeddings": True, "vocab_size": 151936, "use_sliding_window": False, "torch_dtype": "bfloat16"}
SEQ, STEPS = 1024, 120


def main(root, out=None):
    from shard_helper import pack_documents, write_shards
    from tunekit_worker.models.config import parse_config
    from tunekit_worker.models.llama import CausalLM, init_weights
    from tunekit_worker.safetensors_io import save_file
    from tunekit_worker.train import run_training
    model_dir = os.path.join(root, "model")
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        json.dump(CONFIG, f)
    model = CausalLM(parse_config(CONFIG), device="cuda", dtype=torch.float32)
    init_weights(model, std=0.02, generator=torch.Generator(device="cuda").manual_seed(0))
    save_file({k: v.to(torch.bfloat16).cpu().contiguous() for k, v in model.state_dict().items()},
              os.path.join(model_dir, "model.safetensors"), {"format": "pt"})
    params = sum(p.numel() for p in model.parameters())
    del model
    rng = random.Random(0)
    vocab = list(range(1000, 1064))
    succ = {t: rng.sample(vocab, 4) for t in vocab}
    def doc():
        t = rng.choice(vocab)
        ids = [t]
        for _ in range(rng.randrange(200, 900)):
            t = rng.choice(succ[t])
            ids.append(t)
        return ids
    docs = [doc() for _ in range(3000)]
    data = write_shards(os.path.join(root, "data"), {"train": pack_documents(docs[:2900], SEQ),
                                                     "val": pack_documents(docs[2900:], SEQ)}, SEQ, vocab_size=151936)
    events = []
    torch.cuda.reset_peak_memory_stats()
    t0 = time.time()
    result = run_training({
        "model_dir": model_dir, "data_dir": data, "output_dir": os.path.join(root, "run"), "method": "lora",
        "lora": {"r": 16, "alpha": 32, "dropout": 0.0,
                 "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]},
        "optimizer": {"lr": 1e-3}, "schedule": {"type": "cosine", "warmup_steps": 10, "min_lr_ratio": 0.1},
        "batch_size": 8, "max_steps": STEPS, "seed": 0, "eval": {"every_steps": 40, "max_batches": 8},
        "checkpoint": {"every_steps": 1000, "keep_last": 1}, "device": "cuda", "dtype": "bfloat16", "log_every": 10,
    }, events.append)
    losses = [(e["step"], e["value"]) for e in events if e.get("name") == "train/loss"]
    vals = [(e["step"], e["value"]) for e in events if e.get("name") == "val/loss"]
    tps = [e["tokens_per_s"] for e in events if e.get("event") == "progress" and e.get("tokens_per_s")]
    finite = all(v == v and abs(v) != float("inf") for _, v in losses + vals)
    summary = {"parameters": params, "steps": result["steps"], "train_loss_every_10": losses[::10], "val_loss": vals,
               "all_finite": finite, "val_loss_fell": len(vals) > 1 and vals[-1][1] < vals[0][1] - 1.0,
               "tokens_per_s_last": tps[-1] if tps else None, "peak_gib": torch.cuda.max_memory_allocated() / 2**30,
               "wall_s": time.time() - t0, "torch": torch.__version__, "device": torch.cuda.get_device_name(0)}
    print(json.dumps(summary))
    if out:
        with open(os.path.join(out, "lora-05b.json"), "w") as f:
            json.dump(summary, f, indent=1)
    if not (finite and summary["val_loss_fell"]):
        sys.exit(1)


if __name__ == "__main__":
    main(*sys.argv[1:3])
