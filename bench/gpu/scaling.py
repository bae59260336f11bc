"""Several GPUs (issue 10, part 3): DDP scaling of LoRA, and FSDP2 full fine-tuning of the 8B architecture.

  NCCL_NVLS_ENABLE=0 python3 bench/gpu/scaling.py --runs ddp1,ddp2,fsdp8b --steps 20 --warmup 5

Every run is a fresh `torchrun --standalone --nproc_per_node K` of this file, training random-initialised bf16
weights on random tokens with the worker's own pieces — `Parallel.wrap` (DDP / FSDP2 `fully_shard`), `LossModule`
(fused linear + cross-entropy), `compile_layers`, `build_optimizer` (fused AdamW), `apply_lora` — and the
training loop's arithmetic (loss scaled to the global token mean, grad-norm clip 1.0):
  ddp1    the 0.5B Qwen-like model, LoRA r 16 on all seven projections, batch 8 x 2,048 per GPU, 1 GPU
  ddp2    the same on 2 GPUs (DDP): scaling efficiency = tokens/s(2 GPUs) / (2 x tokens/s(1 GPU))
  fsdp8b  Llama-3-8B architecture, full fine-tuning (every weight trained, AdamW states in bf16 like the
          weights), FSDP2 over 2 GPUs, micro-batch --micro x 2,048, first --ckpt layers checkpointed
Prints a table and writes scaling.json to --out ($OUT). MFU: 4N (LoRA) or 6N (full) + attention FLOPs per token
against the 989 TFLOP/s datasheet.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "worker"))
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MODELS = {
    "05b": {"architectures": ["Qwen2ForCausalLM"], "num_hidden_layers": 24, "hidden_size": 896,
            "num_attention_heads": 14, "num_key_value_heads": 2, "intermediate_size": 4864, "vocab_size": 151936,
            "tie_word_embeddings": True, "rope_theta": 1e6, "rms_norm_eps": 1e-6, "max_position_embeddings": 8192},
    "8b": {"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 32, "hidden_size": 4096,
           "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 128256,
           "tie_word_embeddings": False, "rope_theta": 5e5, "rms_norm_eps": 1e-5, "max_position_embeddings": 8192},
}
RUNS = {"ddp1": ("05b", "lora", 1, "ddp"), "ddp2": ("05b", "lora", 2, "ddp"), "fsdp8b": ("8b", "full", 2, "fsdp")}
SEQ, DATASHEET = 2048, 989.0


def flops_per_token(raw: dict, method: str) -> float:
    h, L, heads, kv = raw["hidden_size"], raw["num_hidden_layers"], raw["num_attention_heads"], raw["num_key_value_heads"]
    hd = h // heads
    n = L * (h * hd * (2 * heads + 2 * kv) + 3 * h * raw["intermediate_size"]) + raw["vocab_size"] * h
    return (4.0 if method == "lora" else 6.0) * n + 6.0 * L * heads * hd * SEQ


def child(a):
    from tunekit_worker.loss import LossModule
    from tunekit_worker.models.config import parse_config
    from tunekit_worker.models.attention import positions_from_segments
    from tunekit_worker.models.llama import CausalLM, init_weights
    from tunekit_worker.parallel import Parallel
    from tunekit_worker.train import build_optimizer, compile_layers
    from tunekit_worker.train_params import OptimizerParams
    model_name, method, _, strategy = RUNS[a.run]
    par = Parallel.from_env(strategy)
    device = torch.device("cuda", par.local_rank)
    torch.cuda.set_device(device)
    torch.manual_seed(0)
    cfg = parse_config(MODELS[model_name])
    t0 = time.time()
    # FSDP: built on the meta device and sharded before any memory is allocated, so no GPU ever holds the whole model.
    model = CausalLM(cfg, device="meta" if par.sharded else device, dtype=torch.bfloat16)
    model.gradient_checkpointing = a.ckpt
    if method == "lora":
        from tunekit_worker.lora import LoraConfig, apply_lora
        init_weights(model)
        for prm in model.parameters():
            prm.requires_grad_(False)
        apply_lora(model, LoraConfig(r=16, alpha=32.0, dropout=0.0, target_modules=list(TARGETS)))
        model.to(device)
    model.train()
    compiled = compile_layers(model, None, device, hooks_outside=par.sharded)
    loss_module = par.wrap(LossModule(model), device)
    if par.sharded:
        model.to_empty(device=device)
        init_weights(model)
    build_s = time.time() - t0
    opt = build_optimizer(model, OptimizerParams(lr=1e-5, weight_decay=0.0, betas=(0.9, 0.999), eps=1e-8))
    params = [p for p in model.parameters() if p.requires_grad]
    B = a.micro if method == "full" else 8
    g = torch.Generator(device="cpu").manual_seed(1 + par.rank)
    seg = torch.ones(B, SEQ, dtype=torch.long, device=device)
    pos, mask = positions_from_segments(seg), torch.ones(B, SEQ, dtype=torch.long, device=device)
    torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(a.warmup + a.steps):
        x = torch.randint(0, cfg.vocab_size, (B, SEQ), generator=g).to(device)
        torch.cuda.synchronize()
        t = time.perf_counter()
        loss_sum, n = loss_module(x, mask, seg, pos)
        # Every rank has n tokens; DDP / FSDP average gradients over ranks: the global token mean.
        (loss_sum / n).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    step_s = sum(times[a.warmup:]) / a.steps
    peak = torch.tensor([torch.cuda.max_memory_allocated() / 2 ** 30], device=device)
    par.all_reduce(peak)  # summed; reported per GPU below
    if par.is_main:
        tokens = B * SEQ * par.world_size
        fpt = flops_per_token(MODELS[model_name], method)
        res = {"run": a.run, "model": model_name, "method": method, "strategy": strategy, "gpus": par.world_size,
               "micro_batch": B, "ckpt_layers": a.ckpt, "compiled": compiled, "build_s": build_s, "step_ms": step_s * 1e3,
               "tokens_per_s": tokens / step_s, "tokens_per_s_per_gpu": tokens / step_s / par.world_size,
               "peak_gib_per_gpu": float(peak) / par.world_size, "loss_last": float(loss_sum) / n,
               "mfu_datasheet": tokens / step_s / par.world_size * fpt / (DATASHEET * 1e12),
               "trainable": sum(p.numel() for p in params)}  # DTensor numel is the global size
        with open(os.path.join(a.work, f"{a.run}.json"), "w") as f:
            json.dump(res, f)
    par.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default="ddp1,ddp2,fsdp8b")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--micro", type=int, default=1, help="fsdp8b micro-batch (sequences of 2,048 per GPU)")
    ap.add_argument("--ckpt", type=int, default=0, help="layers with gradient checkpointing")
    ap.add_argument("--work", default="/tmp/tk-scaling")
    ap.add_argument("--out", default=os.environ.get("OUT"))
    ap.add_argument("--timeout", type=int, default=240)
    ap.add_argument("--child-run", dest="run")
    a = ap.parse_args()
    if a.run:
        return child(a)
    os.makedirs(a.work, exist_ok=True)
    results = {}
    for run in a.runs.split(","):
        gpus = RUNS[run][2]
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(gpus),
               os.path.abspath(__file__), "--child-run", run, "--steps", str(a.steps), "--warmup", str(a.warmup),
               "--micro", str(a.micro), "--ckpt", str(a.ckpt), "--work", a.work]
        t0 = time.time()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout,
                               env=dict(os.environ, NCCL_NVLS_ENABLE="0"))
            ok, tail = p.returncode == 0, (p.stdout + p.stderr)[-3000:]
        except subprocess.TimeoutExpired as e:
            ok, tail = False, f"timeout after {a.timeout} s: {str(e.stderr or '')[-2000:]}"
        path = os.path.join(a.work, f"{run}.json")
        r = json.load(open(path)) if ok and os.path.exists(path) else {"error": tail}
        r["process_s"] = time.time() - t0
        results[run] = r
        print(f"[{run}] {json.dumps(r)}", flush=True)
        if a.out:
            json.dump(results, open(os.path.join(a.out, "scaling.json"), "w"), indent=1)
    if "tokens_per_s" in results.get("ddp1", {}) and "tokens_per_s" in results.get("ddp2", {}):
        eff = results["ddp2"]["tokens_per_s"] / (2 * results["ddp1"]["tokens_per_s"])
        results["ddp_scaling_efficiency"] = eff
        print(f"DDP scaling efficiency (LoRA 0.5B, 2 GPUs): {eff * 100:.1f}%")
    print("| run | GPUs | tokens/s | tokens/s per GPU | peak GiB per GPU | MFU (datasheet) | step ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for run, r in results.items():
        if isinstance(r, dict) and "tokens_per_s" in r:
            print(f"| {run} | {r['gpus']} | {r['tokens_per_s']:,.0f} | {r['tokens_per_s_per_gpu']:,.0f} | "
                  f"{r['peak_gib_per_gpu']:.1f} | {r['mfu_datasheet'] * 100:.1f}% | {r['step_ms']:.0f} |")
    if a.out:
        json.dump(results, open(os.path.join(a.out, "scaling.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
