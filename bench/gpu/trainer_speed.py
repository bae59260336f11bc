"""Trainer speed: tunekit's worker against transformers + PEFT, side by side in one call (issue 10).

Both sides train LoRA r 16 / alpha 32 on all seven projections of the same random-initialised bf16 model, from
the same LoRA init (PEFT's, copied into tunekit), on the same batches (a learnable synthetic language, one
document per row), with AdamW (lr 5e-4 constant, no weight decay) and grad-norm clipping at 1.0.

  python3 bench/gpu/trainer_speed.py --configs 05b[,8b] --sides hf,v0,tunekit[,packed] --steps 50 --warmup 5

Sides (each a fresh child process, so peak memory and compile caches are its own):
  hf       transformers (attn_implementation="sdpa") + PEFT; builds the model, saves it as an HF folder (what the
           tunekit sides load) and PEFT's LoRA init.
  v0       tunekit's worker as an older copy (--v0-path, e.g. the commit before the speed work) — "before".
  tunekit  this checkout's worker (compile on: the train default on CUDA).
  eager    this checkout with compile off (what compile adds, and a fallback if compile fails).
  packed   this checkout, each row packed with 4 documents (document-masked attention; speed only: its loss
           differs from the baseline's, which has no packing).
  qlora    this checkout with the base projections quantized to NF4 as they load (quantize: nf4), bf16 LoRA on
           top (option dq=1: double quantization); its peak also reports the load (`load_peak_gib`). If it fails
           compiled, it is retried once as qlora-eager (compile off).
  init     only builds the model and PEFT's LoRA init (what hf does first), without training: for calls that
           compare tunekit sides only (--baseline picks the side the ratios are taken against).
A side may carry options, `side:micro=M,ckpt=K`: the batch runs as batch/M micro-batches of M sequences with
gradient accumulation (the same optimizer step: every micro-batch has the same token count, so the mean of their
mean losses is the batch's mean loss), and K layers recompute their forward in backward (hf: any K > 0 = all).
Prints a table (tokens/s, peak GiB, MFU against a measured 8192^3 bf16 matmul and the 989 TFLOP/s datasheet,
loss at the last step, ratio to hf) and writes trainer-speed.json (and per-side kernel profiles) to --out.
MFU counts 4N + attention FLOPs per token: N = every frozen matmul weight (layers and the LM head), 4N = forward
(2N) + input gradients (2N) (LoRA has no weight gradients of the base); attention = 6 * layers * heads*head_dim *
seq (QK^T and PV, forward and backward, causal half).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LR, SEED = 5e-4, 0
CONFIGS = {
    "05b": dict(cls="Qwen2", layers=24, hidden=896, heads=14, kv=2, inter=4864, vocab=151936, tied=True,
                theta=1e6, eps=1e-6, batch=8, seq=2048, ckpt=False),
    "8b": dict(cls="Llama", layers=32, hidden=4096, heads=32, kv=8, inter=14336, vocab=128256, tied=False,
               theta=5e5, eps=1e-5, batch=4, seq=2048, ckpt=True),
}
DATASHEET_TFLOPS = 989.0


def flops_per_token(c) -> float:
    hd = c["hidden"] // c["heads"]
    per_layer = c["hidden"] * hd * (2 * c["heads"] + 2 * c["kv"]) + 3 * c["hidden"] * c["inter"]
    n = c["layers"] * per_layer + c["vocab"] * c["hidden"]
    return 4.0 * n + 6.0 * c["layers"] * c["heads"] * hd * c["seq"]


def make_data(c, rows: int, path: str):
    """[rows, seq] int64: a Markov chain over 64 ids (4 successors each); loss can fall from ln V to ~ln 4."""
    g = torch.Generator().manual_seed(SEED)
    succ = 1000 + torch.randint(0, 64, (64, 4), generator=g)
    out = torch.empty(rows, c["seq"], dtype=torch.int64)
    cur = 1000 + torch.randint(0, 64, (rows,), generator=g)
    for t in range(c["seq"]):
        out[:, t] = cur
        cur = succ[cur - 1000, torch.randint(0, 4, (rows,), generator=g)]
    torch.save(out, path)


def matmul_ceiling() -> float:
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(10):
        a @ b
    e.record()
    torch.cuda.synchronize()
    tflops = 2 * 8192 ** 3 * 10 / (s.elapsed_time(e) / 1e3) / 1e12
    del a, b
    torch.cuda.empty_cache()
    return tflops


class Phases:
    """CUDA events between phases of a step; summed per phase over the timed steps (no host syncs)."""

    def __init__(self, names):
        self.names, self.pending, self.ms = names, [], {n: 0.0 for n in names}

    def step(self):
        evs = [torch.cuda.Event(enable_timing=True) for _ in range(len(self.names) + 1)]
        self.pending.append(evs)
        return iter(evs)

    def total(self, skip: int):
        torch.cuda.synchronize()
        for evs in self.pending[skip:]:
            for i, n in enumerate(self.names):
                self.ms[n] += evs[i].elapsed_time(evs[i + 1])
        return self.ms


def parse_side(spec: str):
    """"tunekit:micro=1,ckpt=0" -> ("tunekit", {"micro": 1, "ckpt": 0})."""
    name, _, opts = spec.partition(":")
    return name, {k: int(v) for k, v in (o.split("=") for o in opts.split(",") if o)}


def apply_options(c: dict, opts: dict) -> dict:
    c = dict(c, micro=opts.get("micro", c["batch"]), ckpt=opts.get("ckpt", c["ckpt"]))
    assert c["batch"] % c["micro"] == 0, f"micro {c['micro']} must divide batch {c['batch']}"
    return c


def run_loop(step_fn, data, c, steps, warmup, phases, out_dir, side):
    """Runs warmup + steps; returns timing, losses and peak memory (peak counted from after model build)."""
    losses, t_first = [], None
    data = data.view(-1, c["batch"], c["seq"])  # [steps, B, T]
    for i in range(warmup + steps):
        if i == warmup:
            torch.cuda.synchronize()
            t_first = time.perf_counter()
        x = data[i].cuda(non_blocking=True)
        losses.append(step_fn(x, phases.step()))
    torch.cuda.synchronize()
    elapsed = time.perf_counter() - t_first
    ms = phases.total(warmup)
    tokens = steps * c["batch"] * c["seq"]
    peak = torch.cuda.max_memory_allocated() / 2 ** 30
    prof_path = None
    if out_dir:  # one more step under the profiler: the top kernels by GPU time
        try:
            from torch.profiler import ProfilerActivity, profile
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                step_fn(data[0].cuda(), phases.step())
                torch.cuda.synchronize()
            prof_path = os.path.join(out_dir, f"profile-{side}.txt")
            with open(prof_path, "w") as f:
                f.write(prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=25,
                                                  max_name_column_width=80))
        except Exception as e:  # the profile is a diagnosis, not the result
            prof_path = f"failed: {e!r}"
    return {"tokens_per_s": tokens / elapsed, "step_ms": elapsed * 1e3 / steps,
            "phase_ms_per_step": {k: v / steps for k, v in ms.items()}, "peak_gib": peak,
            "losses": losses, "profile": prof_path}


def side_hf(c, work, steps, warmup, out_dir, name="hf"):
    import inspect
    import transformers
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
    cls = getattr(transformers, c["cls"] + "Config")
    kw = dict(vocab_size=c["vocab"], hidden_size=c["hidden"], intermediate_size=c["inter"],
              num_hidden_layers=c["layers"], num_attention_heads=c["heads"], num_key_value_heads=c["kv"],
              max_position_embeddings=8192, rms_norm_eps=c["eps"], tie_word_embeddings=c["tied"], use_cache=False)
    if "rope_parameters" in inspect.signature(cls.__init__).parameters:
        kw["rope_parameters"] = {"rope_type": "default", "rope_theta": c["theta"]}
    else:
        kw["rope_theta"] = c["theta"]
    config = cls(**kw)
    torch.manual_seed(SEED)
    with torch.device("cuda"):
        try:
            model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation="sdpa",
                                                                  dtype=torch.bfloat16)
        except TypeError:
            model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation="sdpa",
                                                                  torch_dtype=torch.bfloat16)
    model = model.to(torch.bfloat16)
    t0 = time.time()
    if name == "hf" or not os.path.exists(os.path.join(work, "model", "config.json")):
        model.save_pretrained(os.path.join(work, "model"))
    save_s = time.time() - t0
    pm = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=TARGETS,
                                          task_type="CAUSAL_LM"))
    torch.save({k: v.detach().cpu() for k, v in get_peft_model_state_dict(pm).items()}, os.path.join(work, "lora.pt"))
    if c["ckpt"]:
        pm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    pm.train()
    params = [p for p in pm.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=LR, weight_decay=0.0)
    data = torch.load(os.path.join(work, "data.pt"))
    torch.cuda.reset_peak_memory_stats()

    k = c["batch"] // c["micro"]

    if name == "init":  # the model folder and the LoRA init are what the other sides need
        return {"save_s": save_s}

    def step(x, ev):
        next(ev).record()
        total = 0.0
        for i in range(k):  # k == 1: the plain step
            xi = x[i * c["micro"]:(i + 1) * c["micro"]]
            loss = pm(input_ids=xi, labels=xi).loss
            if i == 0:
                next(ev).record()
            (loss / k).backward()
            total = total + loss.detach() / k
        next(ev).record()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        next(ev).record()
        return float(total)

    names = ["forward+loss", "backward", "optimizer"] if k == 1 else ["first forward", "rest", "optimizer"]
    r = run_loop(step, data, c, steps, warmup, Phases(names), out_dir, name)
    r.update(attn=model.config._attn_implementation, save_s=save_s, transformers=transformers.__version__,
             trainable=sum(p.numel() for p in params))
    return r


def side_tunekit(c, work, steps, warmup, out_dir, worker_path, packed, name, compile_flag=None, quantize=None):
    sys.path.insert(0, worker_path)
    from tunekit_worker import train as tk_train
    from tunekit_worker.train_params import OptimizerParams
    from tunekit_worker.lora import LoraConfig, apply_lora, load_lora_state_dict
    from tunekit_worker.loss import masked_loss_sum
    from tunekit_worker.models.attention import positions_from_segments
    from tunekit_worker.models.loading import load_model
    t0 = time.time()
    torch.cuda.reset_peak_memory_stats()
    if quantize is not None:  # QLoRA: each projection quantized on the GPU as it is read; the bf16 model never exists there
        model = load_model(os.path.join(work, "model"), device="cuda", dtype=torch.bfloat16, quantize="nf4",
                           quantize_targets=TARGETS, double_quant=bool(quantize.get("dq", 0)))
    else:
        model = load_model(os.path.join(work, "model"), device="cuda", dtype=torch.bfloat16)
    torch.cuda.synchronize()
    load_s = time.time() - t0
    load_peak = torch.cuda.max_memory_allocated() / 2 ** 30
    model_gib = torch.cuda.memory_allocated() / 2 ** 30
    model.gradient_checkpointing = c["ckpt"]  # bool or a number of layers
    apply_lora(model, LoraConfig(r=16, alpha=32.0, dropout=0.0, target_modules=list(TARGETS)))
    model.to("cuda")
    load_lora_state_dict(model, torch.load(os.path.join(work, "lora.pt")))
    model.train()
    compiled = (tk_train.compile_layers(model, compile_flag, "cuda") if hasattr(tk_train, "compile_layers")
                else False)
    opt = tk_train.build_optimizer(model, OptimizerParams(lr=LR, weight_decay=0.0, betas=(0.9, 0.999), eps=1e-8))
    params = [p for p in model.parameters() if p.requires_grad]
    B, T = c["micro"], c["seq"]
    k = c["batch"] // B
    seg = torch.ones(B, T, dtype=torch.int64, device="cuda")
    if packed:  # 4 documents per row
        seg = (torch.arange(T, device="cuda") // (T // 4) + 1).expand(B, T).contiguous()
    pos = positions_from_segments(seg)
    mask = torch.ones(B, T, dtype=torch.int64, device="cuda")
    data = torch.load(os.path.join(work, "data.pt"))
    torch.cuda.reset_peak_memory_stats()

    def step(x, ev):
        next(ev).record()
        total, count = 0.0, 0
        for i in range(k):  # k == 1: the plain step; else gradient accumulation over k micro-batches
            xi = x[i * B:(i + 1) * B]
            hidden = model(xi, position_ids=pos, segment_ids=seg)
            if i == 0:
                next(ev).record()
            loss_sum, n = masked_loss_sum(model, hidden, xi, mask)
            if i == 0:
                next(ev).record()
            (loss_sum / (n * k)).backward()  # equal token counts: the batch's mean
            total, count = total + loss_sum.detach(), count + n
        next(ev).record()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        next(ev).record()
        return float(total) / count

    t0 = time.time()
    names = ["forward", "loss", "backward", "optimizer"] if k == 1 else ["first forward", "first loss", "rest",
                                                                          "optimizer"]
    r = run_loop(step, data, c, steps, warmup, Phases(names), out_dir, name)
    r.update(compiled=compiled, load_s=load_s, wall_s=time.time() - t0, trainable=sum(p.numel() for p in params),
             load_peak_gib=load_peak, model_gib=model_gib, quantize="nf4" if quantize is not None else None)
    return r


def result_file(work: str, side: str) -> str:
    return os.path.join(work, side.replace(":", "_").replace(",", "_").replace("=", "") + ".json")


def child(a):
    side, opts = parse_side(a.side)
    c = apply_options(CONFIGS[a.config], opts)
    work = os.path.join(a.work, a.config)
    label = f"{a.config}-{a.side}".replace(":", "_").replace(",", "_").replace("=", "")
    if side == "init":
        r = side_hf(dict(c, ckpt=False), work, 0, 0, None, "init")
    elif side == "hf":
        c["ckpt"] = bool(c["ckpt"])
        r = side_hf(c, work, a.steps, a.warmup, a.out, "hf" if not opts else label)
    elif side in ("qlora", "qlora-eager"):
        r = side_tunekit(c, work, a.steps, a.warmup, a.out, os.path.join(REPO, "worker"), False, label,
                         False if side == "qlora-eager" else None, quantize=opts)
    else:
        path = os.path.abspath(a.v0_path) if side == "v0" else os.path.join(REPO, "worker")
        r = side_tunekit(c, work, a.steps, a.warmup, a.out, path, side == "packed", label,
                         False if side == "eager" else None)
    r.update(micro=c["micro"], ckpt=c["ckpt"])
    with open(result_file(work, a.side), "w") as f:
        json.dump(r, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", default="05b")
    ap.add_argument("--sides", default="hf,v0,tunekit", help="';'-separated when sides carry options "
                    "(hf;tunekit:micro=1,ckpt=0), else ','-separated")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--v0-path", default=os.path.join(REPO, ".gpu-carry", "v0", "worker"))
    ap.add_argument("--work", default="/tmp/tk-speed")
    ap.add_argument("--out", default=os.environ.get("OUT"))
    ap.add_argument("--timeout", type=int, default=300, help="seconds per side")
    ap.add_argument("--baseline", default="hf", help="the side ratios and loss differences are taken against")
    ap.add_argument("--side")
    ap.add_argument("--config")
    a = ap.parse_args()
    if a.side:
        return child(a)
    ceiling = matmul_ceiling()
    report = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0), "matmul_tflops": ceiling,
              "datasheet_tflops": DATASHEET_TFLOPS, "steps": a.steps, "warmup": a.warmup, "lr": LR, "configs": {}}
    print(f"bf16 8192^3 matmul: {ceiling:.0f} TFLOP/s", flush=True)
    for name in a.configs.split(","):
        c = CONFIGS[name]
        work = os.path.join(a.work, name)
        os.makedirs(work, exist_ok=True)
        make_data(c, (a.warmup + a.steps) * c["batch"], os.path.join(work, "data.pt"))
        fpt = flops_per_token(c)
        rep = report["configs"][name] = {"config": c, "flops_per_token": fpt, "sides": {}}
        queue = a.sides.split(";") if ";" in a.sides or ":" in a.sides else a.sides.split(",")
        while queue:
            side = queue.pop(0)
            t0 = time.time()
            cmd = [sys.executable, os.path.abspath(__file__), "--side", side, "--config", name, "--steps",
                   str(a.steps), "--warmup", str(a.warmup), "--v0-path", a.v0_path, "--work", a.work]
            if a.out:
                cmd += ["--out", a.out]
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
                ok, tail = p.returncode == 0, (p.stdout + p.stderr)[-3000:]
            except subprocess.TimeoutExpired as e:
                ok, tail = False, f"timeout after {a.timeout} s: " + str(e.stderr or "")[-2000:]
            res_path = result_file(work, side)
            if ok and os.path.exists(res_path) and side.startswith("init"):
                with open(res_path) as f:
                    r = json.load(f)
            elif ok and os.path.exists(res_path):
                with open(res_path) as f:
                    r = json.load(f)
                r["mfu_measured"] = r["tokens_per_s"] * fpt / (ceiling * 1e12)
                r["mfu_datasheet"] = r["tokens_per_s"] * fpt / (DATASHEET_TFLOPS * 1e12)
            else:
                r = {"error": tail}
                print(f"[{name}/{side}] FAILED:\n{tail}", flush=True)
                if side.startswith("qlora:") or side == "qlora":  # compiled failed: measure it eager instead
                    queue.insert(0, side.replace("qlora", "qlora-eager", 1))
            r["process_s"] = time.time() - t0
            rep["sides"][side] = r
            print(f"[{name}/{side}] {json.dumps({k: v for k, v in r.items() if k not in ('losses', 'error')})}",
                  flush=True)
            if a.out:
                with open(os.path.join(a.out, "trainer-speed.json"), "w") as f:
                    json.dump(report, f, indent=1)
        base = rep["sides"].get(a.baseline, {})
        print(f"\n{name}: batch {c['batch']} x {c['seq']}, ckpt {c['ckpt']}, {fpt / 1e9:.2f} GFLOP/token")
        print(f"| side | tokens/s | ratio | peak GiB (load) | MFU (measured / datasheet) | loss @1 | loss @N | "
              f"loss vs {a.baseline} @N | largest step diff |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for side, r in rep["sides"].items():
            if "error" in r:
                print(f"| {side} | failed | | | | | | | |")
                continue
            if "tokens_per_s" not in r:  # init: built the model only
                continue
            ratio = r["tokens_per_s"] / base["tokens_per_s"] if "tokens_per_s" in base else float("nan")
            lo, bl = r["losses"], base.get("losses")
            dl = f"{(lo[-1] - bl[-1]) / bl[-1] * 100:+.2f}%" if bl else ""
            worst = f"{max(abs(x - y) / y for x, y in zip(lo, bl)) * 100:.2f}%" if bl else ""
            lp = f" ({r['load_peak_gib']:.1f})" if "load_peak_gib" in r else ""
            print(f"| {side} | {r['tokens_per_s']:,.0f} | {ratio:.2f}x | {r['peak_gib']:.1f}{lp} | "
                  f"{r['mfu_measured'] * 100:.1f}% / {r['mfu_datasheet'] * 100:.1f}% | {lo[0]:.4f} | {lo[-1]:.4f} | "
                  f"{dl} | {worst} |")
        for side, r in rep["sides"].items():
            if "phase_ms_per_step" in r:
                print(f"  {side} ms/step: " + ", ".join(f"{k} {v:.1f}" for k, v in r["phase_ms_per_step"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
