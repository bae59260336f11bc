"""GPU check for `distributed: fsdp` (issue 5): FSDP2 full fine-tuning equals DDP, checkpoints gather, resume works.

Needs 2 CUDA GPUs, torch >= 2.6 and ../shared/fixtures/models/stories260k. From the repo root:
  NCCL_NVLS_ENABLE=0 python3 worker/scripts/fsdp_check.py /tmp/fsdpcheck [--out DIR]
Runs, each `torchrun --nproc_per_node 2 -m tunekit_worker train` on the same float32 data and seed:
  ddp          full fine-tuning, DDP (the reference)
  fsdp         the same with distributed: fsdp
  fsdp-ckpt    fsdp + selective gradient checkpointing (the first 2 layers)
  fsdp-resume  fsdp resumed from fsdp's step-4 checkpoint (a fresh process group, shards reloaded)
  fsdp-compile fsdp with torch.compile of each layer's forward (FSDP's hooks stay outside)
  one-resume   ONE process (batch 8 = 2 x 4) resumed from fsdp's step-4 checkpoint: checkpoints do not depend on
               the number of processes
and compares per-step losses, val losses, the step-4 checkpoints' weights and the exported model folders.
Prints a JSON report (also written to --out/fsdp-check.json) and exits non-zero when a check fails.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "..")
sys.path[:0] = [os.path.join(HERE, "..", "tests"), WORKER]


def prepare(root: str) -> dict:
    from train_fixtures import MODEL_DIR, write_pattern_dataset
    data = write_pattern_dataset(os.path.join(root, "data"), seq_len=64, train_docs=512, val_docs=40)
    base = {"model_dir": MODEL_DIR, "data_dir": data, "method": "full", "optimizer": {"lr": 0.002},
            "schedule": {"type": "cosine", "warmup_steps": 2}, "batch_size": 4, "grad_accum": 2, "max_steps": 8,
            "seed": 3, "eval": {"every_steps": 4, "max_batches": 3}, "checkpoint": {"every_steps": 4, "keep_last": 5},
            "device": "cuda", "dtype": "float32", "compile": False, "log_every": 1}
    runs = {
        "ddp": {},
        "fsdp": {"distributed": "fsdp"},
        "fsdp-ckpt": {"distributed": "fsdp", "gradient_checkpointing": 2},
        "fsdp-resume": {"distributed": "fsdp",
                        "resume_from": os.path.join(root, "fsdp", "checkpoints", "step-4")},
        "fsdp-compile": {"distributed": "fsdp", "compile": True},
        "one-resume": {"batch_size": 8, "resume_from": os.path.join(root, "fsdp", "checkpoints", "step-4")},
    }
    paths = {}
    for name, extra in runs.items():
        paths[name] = os.path.join(root, f"{name}.json")
        with open(paths[name], "w") as f:
            json.dump({**base, "output_dir": os.path.join(root, name), **extra}, f, indent=1)
    return paths


def train(params_path: str, processes: int = 2) -> dict:
    env = dict(os.environ, PYTHONPATH=WORKER, NCCL_NVLS_ENABLE="0")
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)]
    p = subprocess.run((launcher if processes > 1 else [sys.executable]) + ["-m", "tunekit_worker", "train",
                                                                              "--params", params_path],
                       capture_output=True, text=True, env=env, timeout=300)
    events = []
    for line in p.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    losses = {e["step"]: e["loss"] for e in events if e.get("event") == "progress"}
    vals = {e["step"]: e["value"] for e in events if e.get("event") == "metric" and e.get("name") == "val/loss"}
    done = [e for e in events if e.get("event") == "done"]
    return {"rc": p.returncode, "losses": losses, "val": vals, "done": done[-1] if done else None,
            "tail": "" if p.returncode == 0 else (p.stdout + p.stderr)[-4000:]}


def max_rel(a: dict, b: dict, keys) -> float:
    return max((abs(a[k] - b[k]) / max(abs(b[k]), 1e-12) for k in keys), default=float("nan"))


def weights_rel(dir_a: str, dir_b: str, loader) -> float:
    a, b = loader(dir_a), loader(dir_b)
    assert set(a) == set(b), f"different tensors: {sorted(set(a) ^ set(b))[:5]}"
    return max(float((a[k].double() - b[k].double()).norm() / b[k].double().norm().clamp_min(1e-12)) for k in a)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--out", default=os.environ.get("OUT"))
    a = ap.parse_args()
    from tunekit_worker.safetensors_io import load_checkpoint, load_file
    os.makedirs(a.root, exist_ok=True)
    paths = prepare(a.root)
    res = {name: train(path, 1 if name.startswith("one-") else 2) for name, path in paths.items()}
    ref = res["ddp"]["losses"]
    steps = sorted(ref)
    checks = {}
    if all(r["rc"] == 0 for r in res.values()):
        ck = lambda run: os.path.join(a.root, run, "checkpoints", "step-4", "trainable.safetensors")  # noqa: E731
        checks = {
            "fsdp_vs_ddp_loss": max_rel(res["fsdp"]["losses"], ref, steps),
            "fsdp_vs_ddp_val": max_rel(res["fsdp"]["val"], res["ddp"]["val"], res["ddp"]["val"]),
            "fsdp_ckpt_vs_fsdp_loss": max_rel(res["fsdp-ckpt"]["losses"], res["fsdp"]["losses"], steps),
            "resume_vs_fsdp_loss": max_rel(res["fsdp-resume"]["losses"], res["fsdp"]["losses"], steps[4:]),
            "compile_vs_fsdp_loss": max_rel(res["fsdp-compile"]["losses"], res["fsdp"]["losses"], steps),
            "one_process_resume_vs_fsdp_loss": max_rel(res["one-resume"]["losses"], res["fsdp"]["losses"], steps[4:]),
            "step4_weights_fsdp_vs_ddp": weights_rel(ck("fsdp"), ck("ddp"), load_file),
            "export_fsdp_vs_ddp": weights_rel(os.path.join(a.root, "fsdp", "model"),
                                              os.path.join(a.root, "ddp", "model"), load_checkpoint),
            "resume_export_vs_fsdp": weights_rel(os.path.join(a.root, "fsdp-resume", "model"),
                                                 os.path.join(a.root, "fsdp", "model"), load_checkpoint),
        }
    limits = {"compile_vs_fsdp_loss": 1e-3}
    ok = bool(checks) and all(v <= limits.get(k, 1e-4) for k, v in checks.items())
    report = {"ok": ok, "checks": checks, "runs": res}
    print(json.dumps({"ok": ok, "checks": checks, "losses": {k: r["losses"] for k, r in res.items()},
                      "failed": {k: r["tail"] for k, r in res.items() if r["rc"] != 0}}, indent=1))
    if a.out:
        with open(os.path.join(a.out, "fsdp-check.json"), "w") as f:
            json.dump(report, f, indent=1)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
