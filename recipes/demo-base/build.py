"""Build tunekit's demo base model on the GPU machine: tokenizer, pretraining data, random init, pretraining.

Usage (repo root, after recipes/demo-base/prepare.sh):
  python3 recipes/demo-base/build.py .gpu-carry/corpus /tmp/demo-base "$OUT"

The model is pretrained with the trainer's own code (tunekit_worker.train, method "full", from a random init).
Text handling happens here in Python only because this is a one-off recipe on a machine without Node; the product
path (fine-tuning) compiles shards in TypeScript.
"""

import json
import os
import random
import re
import shutil
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "worker")]

from corpus import read_documents  # noqa: E402
from train_tokenizer import train_tokenizer  # noqa: E402

SEQ_LEN = int(os.environ.get("DEMO_SEQ_LEN", "512"))
DEVICE = os.environ.get("DEMO_DEVICE", "cuda")
MODEL = {  # ~6.5M parameters: LoRA on 2 CPU cores fits the quickstart's 5-minute budget
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256, "intermediate_size": 704,
    "num_hidden_layers": 6, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 32,
    "hidden_act": "silu", "max_position_embeddings": 1024, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
    "tie_word_embeddings": True, "attention_bias": False, "vocab_size": 8192, "torch_dtype": "bfloat16",
}
SYSTEM_LINES = ["You are a helpful assistant.", "Answer the user politely.", "Continue the story."]


def reflow(doc: str) -> str:
    """Join Gutenberg's hard-wrapped lines inside paragraphs: users' text is not wrapped at 70 columns."""
    paras = [re.sub(r"\s*\n\s*", " ", p).strip() for p in re.split(r"\n\s*\n", doc)]
    return "\n\n".join(p for p in paras if p)


def chat_rows(docs, tok, rng, n_conversations):
    """ChatML conversations made of consecutive paragraphs, so the base model knows the scaffold (not the task)."""
    ids = []
    for _ in range(n_conversations):
        paras = [p for p in rng.choice(docs).split("\n\n") if 40 <= len(p) <= 700]
        if len(paras) < 2:
            continue
        i = rng.randrange(len(paras) - 1)
        sys_part = f"<|im_start|>system\n{rng.choice(SYSTEM_LINES)}<|im_end|>\n" if rng.random() < 0.5 else ""
        text = f"{sys_part}<|im_start|>user\n{paras[i]}<|im_end|>\n<|im_start|>assistant\n{paras[i + 1]}<|im_end|>\n"
        ids.append(tok.encode(text).ids)
    return ids


def pack(docs_ids, eot):
    """Rows of SEQ_LEN: long documents are cut into full rows; short ones packed, one segment each."""
    tokens, segs = [], []
    row_t, row_s, seg = [], [], 0
    def flush():
        nonlocal row_t, row_s, seg
        if row_t:
            pad = SEQ_LEN - len(row_t)
            tokens.append(row_t + [eot] * pad)
            segs.append(row_s + [0] * pad)
        row_t, row_s, seg = [], [], 0
    for ids in docs_ids:
        ids = ids + [eot]
        while ids:
            room = SEQ_LEN - len(row_t)
            if room < 16:
                flush()
                room = SEQ_LEN
            piece, ids = ids[:room], ids[room:]
            seg += 1
            row_t += piece
            row_s += [seg] * len(piece)
    flush()
    t = np.asarray(tokens, dtype=np.uint32)
    s = np.asarray(segs, dtype=np.uint16)
    first = np.zeros_like(s, dtype=bool)
    first[:, 0] = True
    first[:, 1:] = s[:, 1:] != s[:, :-1]
    mask = ((s != 0) & ~first).astype(np.uint8)  # a segment's first token has no context: never a target
    return t, mask, s


def write_shards(out, splits, tok_sha):
    os.makedirs(out, exist_ok=True)
    meta = {}
    for name, (t, m, s) in splits.items():
        t.tofile(os.path.join(out, f"{name}.tokens.bin"))
        m.tofile(os.path.join(out, f"{name}.mask.bin"))
        s.astype("<u2").tofile(os.path.join(out, f"{name}.segments.bin"))
        meta[name] = {"sequences": int(t.shape[0]), "tokens": int((s != 0).sum()), "documents": -1,
                      "trained_tokens": int(m.sum()), "truncated_documents": 0}
        meta[name]["documents"] = int(sum(len(set(r) - {0}) for r in s[:2000])) if t.shape[0] else 0
    header = {"format": "tunekit-shards", "version": 1, "seq_len": SEQ_LEN, "packing": True, "pad_token_id": 0,
              "bos_token_id": None, "eos_token_id": 2, "vocab_size": MODEL["vocab_size"], "tokenizer_sha256": tok_sha,
              "template_sha256": "0" * 64, "dataset_version": "gutenberg-00-01", "splits": meta,
              "truncation": {"policy": "truncate", "examples": 0, "tokens": 0, "ids": []}}
    with open(os.path.join(out, "header.json"), "w") as f:
        json.dump(header, f, indent=1)


def main(corpus_dir, work, out):
    import hashlib
    from tunekit_worker.models.config import parse_config
    from tunekit_worker.models.llama import CausalLM, init_weights
    from tunekit_worker.models.loading import load_model
    from tunekit_worker.safetensors_io import save_file
    from tunekit_worker.train import run_training
    from tunekit_worker.generate import generate
    t0 = time.time()
    rng = random.Random(20261128)
    docs = [(k, reflow(d)) for k, d in read_documents(corpus_dir)]
    val_docs = [d for i, (_, d) in enumerate(docs) if i % 40 == 7]
    train_docs = [d for i, (_, d) in enumerate(docs) if i % 40 != 7]
    model_dir = os.path.join(work, "model-init")
    tok = train_tokenizer(train_docs, model_dir)
    print(f"tokenizer trained in {time.time() - t0:.0f}s; {len(train_docs)} train / {len(val_docs)} val books", flush=True)
    eot = tok.token_to_id("<|endoftext|>")
    assert eot == 0 and tok.token_to_id("<|im_end|>") == 2, "special tokens must hold ids 0..2"
    train_ids = [e.ids for e in tok.encode_batch(train_docs)] + chat_rows(train_docs, tok, rng, 40000)
    val_ids = [e.ids for e in tok.encode_batch(val_docs)] + chat_rows(val_docs, tok, rng, 1000)
    rng.shuffle(train_ids)
    tok_sha = hashlib.sha256(open(os.path.join(model_dir, "tokenizer.json"), "rb").read()).hexdigest()
    data_dir = os.path.join(work, "data")
    write_shards(data_dir, {"train": pack(train_ids, eot), "val": pack(val_ids, eot)}, tok_sha)
    n_train = sum(len(x) for x in train_ids)
    print(f"data: {n_train:,} train tokens, {sum(len(x) for x in val_ids):,} val tokens; {time.time() - t0:.0f}s", flush=True)

    cfg = dict(MODEL, bos_token_id=None, eos_token_id=2, pad_token_id=0)
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(model_dir, "generation_config.json"), "w") as f:
        json.dump({"eos_token_id": [2, 0], "pad_token_id": 0}, f, indent=2)
    model = CausalLM(parse_config(cfg), dtype=torch.float32)
    init_weights(model, std=0.02, generator=torch.Generator().manual_seed(0))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(model_dir, "model.safetensors"),
              {"format": "pt"})
    n_params = sum(p.numel() for p in model.parameters())
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    events = []
    def emit(e):
        events.append(e)
        if e.get("event") in ("log", "checkpoint", "error") or e.get("name") == "val/loss":
            print(json.dumps(e), flush=True)
    steps = int(os.environ.get("DEMO_STEPS", "1600"))
    result = run_training({
        "model_dir": model_dir, "data_dir": data_dir, "output_dir": os.path.join(work, "run"), "method": "full",
        "optimizer": {"lr": 2e-3, "weight_decay": 0.1, "betas": [0.9, 0.95]},
        "schedule": {"type": "cosine", "warmup_steps": 100, "min_lr_ratio": 0.1}, "batch_size": 64, "grad_accum": 1,
        "max_steps": steps, "max_grad_norm": 1.0, "seed": 0, "eval": {"every_steps": 200, "max_batches": 40},
        "checkpoint": {"every_steps": 400, "keep_last": 1}, "device": DEVICE, "dtype": "float32", "log_every": 50,
    }, emit)
    print(json.dumps(result), flush=True)

    final = result["model_dir"]
    trained = load_model(final, device=DEVICE, dtype=torch.float32)
    dest = os.path.join(out, "demo-base")
    os.makedirs(dest, exist_ok=True)
    # bf16 on disk keeps the committed model at ~13 MB; the CPU worker loads it as float32.
    save_file({k: v.to(torch.bfloat16).contiguous().cpu() for k, v in trained.state_dict().items()},
              os.path.join(dest, "model.safetensors"), {"format": "pt"})
    for name in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json"):
        shutil.copy(os.path.join(model_dir, name), dest)
    bf16 = load_model(dest, device=DEVICE, dtype=torch.float32)
    prompts = ["Once upon a time", "The old man looked at the sea and",
               "<|im_start|>user\nWhere is my order? It has not arrived yet.<|im_end|>\n<|im_start|>assistant\n",
               "It was a dark and stormy night;"]
    samples = []
    for greedy in (True, False):
        outs = generate(bf16, [tok.encode(p).ids for p in prompts], max_new_tokens=60,
                        temperature=0.0 if greedy else 0.8, top_p=0.95, seed=1, stop_token_ids=[0, 2])
        samples += [{"prompt": p, "greedy": greedy, "text": tok.decode(o.ids)} for p, o in zip(prompts, outs)]
    vals = [(e["step"], e["value"]) for e in events if e.get("name") == "val/loss"]
    tps = [e["tokens_per_s"] for e in events if e.get("event") == "progress" and e.get("tokens_per_s")]
    summary = {"parameters": n_params, "train_tokens_per_epoch": n_train, "steps": result.get("steps"),
               "tokens_trained": result.get("tokens_trained"), "val_loss": vals,
               "final_val_loss": vals[-1][1] if vals else None,
               "final_val_perplexity": float(np.exp(vals[-1][1])) if vals else None,
               "tokens_per_s_median": float(np.median(tps)) if tps else None, "wall_s": time.time() - t0,
               "samples": samples, "torch": torch.__version__, "device": torch.cuda.get_device_name(0) if DEVICE == "cuda" else "cpu",
               "train_books": len(train_docs), "val_books": len(val_docs)}
    with open(os.path.join(out, "training.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k != "samples"}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
