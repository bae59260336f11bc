"""Generation speed: tunekit's generate() against transformers' generate(), same model, same prompts (issue 10).

Batched greedy decoding of random-initialised weights (seeded, identical in every side's process): batch 64,
prompts of 256 random ids, 128 new tokens, no stop tokens, bf16, SDPA.

  python3 bench/gpu/generate_speed.py --configs 05b,8b --sides hf,tunekit,tunekit-nograph
  python3 bench/gpu/generate_speed.py --configs tiny --device cpu --batch 4 --prompt 16 --new 8   # smoke test

Sides (each a fresh child process, so peak memory is its own):
  hf               transformers AutoModelForCausalLM.from_config(attn_implementation="sdpa"), model.generate().
  tunekit          tunekit's CausalLM sharing the HF model's weight tensors, generate(): static KV cache, batched
                   prefill, one CUDA graph replay per decode step.
  tunekit-nograph  the same with graphs=False (static cache, eager steps): what the graph saves.
  tunekit-compile  tunekit with each decoder layer through torch.compile first (compile time in the warm-up).
--dtype float32 makes it a parity run: greedy tokens then match transformers' beyond bf16's near-ties.
Each side runs a warmup call (tunekit: includes the graph capture, reported), then the timed full call and a timed
one-token call (the prefill). Reported: output tokens/s (batch * new / seconds of the full call), ms per decode
step ((full - prefill) / (new - 1)), prefill ms, peak GiB during the full call, and the fraction of rows whose first
32 tokens equal transformers' (bf16 random weights can tie and diverge: reported, not asserted).
Without transformers (the dev machine) the hf side is skipped and tunekit's own seeded init builds the weights.
Writes generate-speed.json to --out (default $OUT).
"""

import argparse
import json
import os
import subprocess
import sys
import time
import traceback

import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = 0
AGREE_TOKENS = 32
HBM_BYTES_PER_S = 4.8e12  # H200 datasheet
CONFIGS = {
    "05b": dict(cls="Qwen2", layers=24, hidden=896, heads=14, kv=2, inter=4864, vocab=151936, tied=True,
                theta=1e6, eps=1e-6),
    "8b": dict(cls="Llama", layers=32, hidden=4096, heads=32, kv=8, inter=14336, vocab=128256, tied=False,
               theta=5e5, eps=1e-5),
    "tiny": dict(cls="Llama", layers=2, hidden=64, heads=4, kv=2, inter=128, vocab=512, tied=False,
                 theta=1e4, eps=1e-5),
}


def raw_config(c) -> dict:
    """The HF config.json fields tunekit's parser reads."""
    return {"architectures": [c["cls"] + "ForCausalLM"], "model_type": c["cls"].lower(), "vocab_size": c["vocab"],
            "hidden_size": c["hidden"], "intermediate_size": c["inter"], "num_hidden_layers": c["layers"],
            "num_attention_heads": c["heads"], "num_key_value_heads": c["kv"], "max_position_embeddings": 8192,
            "rms_norm_eps": c["eps"], "rope_theta": c["theta"], "hidden_act": "silu",
            "tie_word_embeddings": c["tied"]}


def roofline_tokens_per_s(c, batch: int, capacity: int, bytes_per_el: int = 2) -> float:
    """Decode-only bound: every step reads all weights once plus the whole static KV cache (batch x capacity)."""
    hd = c["hidden"] // c["heads"]
    layer = c["hidden"] * hd * (2 * c["heads"] + 2 * c["kv"]) + 3 * c["hidden"] * c["inter"] + 2 * c["hidden"]
    params = c["layers"] * layer + c["vocab"] * c["hidden"] * (1 if c["tied"] else 2)
    kv = c["layers"] * 2 * c["kv"] * hd * batch * capacity
    return batch / ((params + kv) * bytes_per_el / HBM_BYTES_PER_S)


def build_hf(c, device, dtype):
    import inspect
    import transformers
    cls = getattr(transformers, c["cls"] + "Config")
    kw = dict(vocab_size=c["vocab"], hidden_size=c["hidden"], intermediate_size=c["inter"],
              num_hidden_layers=c["layers"], num_attention_heads=c["heads"], num_key_value_heads=c["kv"],
              max_position_embeddings=8192, rms_norm_eps=c["eps"], tie_word_embeddings=c["tied"],
              bos_token_id=None, eos_token_id=None, pad_token_id=0)
    if "rope_parameters" in inspect.signature(cls.__init__).parameters:
        kw["rope_parameters"] = {"rope_type": "default", "rope_theta": c["theta"]}
    else:
        kw["rope_theta"] = c["theta"]
    torch.manual_seed(SEED)
    with torch.device(device):
        try:
            model = transformers.AutoModelForCausalLM.from_config(cls(**kw), attn_implementation="sdpa", dtype=dtype)
        except TypeError:
            model = transformers.AutoModelForCausalLM.from_config(cls(**kw), attn_implementation="sdpa",
                                                                  torch_dtype=dtype)
    model = model.to(dtype).eval()
    model.generation_config.eos_token_id = None  # run every row to the end, as tunekit without stop tokens
    model.generation_config.pad_token_id = 0
    return model


def build_tunekit(c, device, dtype):
    """tunekit's CausalLM on the HF model's weight tensors (shared, no copy); tunekit's seeded init without HF."""
    from tunekit_worker.models.config import parse_config
    from tunekit_worker.models.llama import CausalLM, init_weights
    cfg = parse_config(raw_config(c))
    try:
        import transformers  # noqa: F401
    except ImportError:
        model = CausalLM(cfg, device=device, dtype=torch.float32)
        init_weights(model, generator=torch.Generator(device=device).manual_seed(SEED))
        return model.to(dtype).eval(), None
    hf = build_hf(c, device, dtype)
    model = CausalLM(cfg, device="meta", dtype=dtype)
    expected = set(model.state_dict())
    weights = {k: v for k, v in hf.state_dict().items() if k in expected}
    assert set(weights) == expected, f"HF weights lack {sorted(expected - set(weights))[:5]}"
    model.load_state_dict(weights, assign=True)
    model._inv_freq = {}
    del hf, weights
    return model.eval(), "hf"


def weights_checksum(named) -> float:
    return float(sum(t.float().sum().double() for name, t in named if name.endswith("embed_tokens.weight")
                     or name.endswith("layers.0.mlp.down_proj.weight")))


def prompts_for(c, batch: int, length: int) -> torch.Tensor:
    return torch.randint(0, c["vocab"], (batch, length), generator=torch.Generator().manual_seed(SEED))  # [B,P]


def timed(fn, device):
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return out, time.perf_counter() - t0


def run_side(a) -> dict:
    c = CONFIGS[a.config]
    device = torch.device(a.device)
    dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32}[a.dtype] if device.type == "cuda" else torch.float32
    ids = prompts_for(c, a.batch, a.prompt)
    t0 = time.perf_counter()
    if a.side == "hf":
        model = build_hf(c, device, dtype)
        named = list(model.named_parameters())
        x, mask = ids.to(device), torch.ones_like(ids).to(device)

        kw = {"do_sample": False, "pad_token_id": 0}
        if model.generation_config.eos_token_id is not None:  # defensive: an eos must not end rows early
            kw["min_new_tokens"] = a.new

        def gen(n):
            with torch.no_grad():
                out = model.generate(input_ids=x, attention_mask=mask, max_new_tokens=n,
                                     **dict(kw, min_new_tokens=n) if "min_new_tokens" in kw else kw)
            assert out.shape == (a.batch, a.prompt + n), f"generate returned {tuple(out.shape)}"
            return out[:, a.prompt:].tolist()
        warm_new, extra = min(8, a.new), {"attn": model.config._attn_implementation}
    else:
        sys.path.insert(0, os.path.join(REPO, "worker"))
        from tunekit_worker.generate import generate
        model, source = build_tunekit(c, device, dtype)
        named = list(model.named_parameters())
        prompts, graphs = ids.tolist(), a.side in ("tunekit", "tunekit-compile")
        if a.side == "tunekit-compile":  # each decoder layer through torch.compile (the trainer's compile_layers)
            from tunekit_worker.train import compile_layers
            extra_compiled = compile_layers(model, True, device)

        def gen(n):
            return [o.ids for o in generate(model, prompts, max_new_tokens=n, graphs=graphs)]
        warm_new, extra = (a.new if graphs else min(8, a.new)), {"weights": source or "tunekit init"}
        if a.side == "tunekit-compile":
            extra["compiled"] = extra_compiled
    build_s = time.perf_counter() - t0
    _, warmup_s = timed(lambda: gen(warm_new), device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    tokens, full_s = timed(lambda: gen(a.new), device)
    peak = torch.cuda.max_memory_allocated() / 2 ** 30 if device.type == "cuda" else None
    _, prefill_s = timed(lambda: gen(1), device)
    assert all(len(t) == a.new for t in tokens), "a row stopped early"
    runners = getattr(model, "_decode_runners", {})
    if runners:
        extra["capture_s"] = sum(r.capture_s or 0.0 for r in runners.values())
        extra["graph_replayed"] = any(r.graph is not None for r in runners.values())
    return dict(extra, tokens_per_s=a.batch * a.new / full_s, full_s=full_s, prefill_ms=prefill_s * 1e3,
                step_ms=(full_s - prefill_s) * 1e3 / max(1, a.new - 1), warmup_s=warmup_s, build_s=build_s,
                peak_gib=peak, checksum=weights_checksum(named), tokens=tokens)


def first_token_agreement(a_tokens, b_tokens) -> float:
    return sum(x[:1] == y[:1] for x, y in zip(a_tokens, b_tokens)) / len(a_tokens)


def agreement(a_tokens, b_tokens, n: int = AGREE_TOKENS) -> float:
    return sum(x[:n] == y[:n] for x, y in zip(a_tokens, b_tokens)) / len(a_tokens)


def print_table(name, c, a, sides):
    hf = sides.get("hf", {})
    cap = a.prompt + a.new
    print(f"\n{name}: batch {a.batch}, prompt {a.prompt}, new {a.new}; decode roofline (weights + full KV cache "
          f"per step at 4.8 TB/s): {roofline_tokens_per_s(c, a.batch, cap):,.0f} tokens/s")
    print(f"| side | output tokens/s | vs hf | ms/step | prefill ms | warmup s (capture s) | peak GiB | "
          f"rows = hf (first {AGREE_TOKENS}) | rows = tunekit |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for side, r in sides.items():
        if "error" in r:
            print(f"| {side} | failed | | | | | | | |")
            continue
        ratio = f"{r['tokens_per_s'] / hf['tokens_per_s']:.2f}x" if "tokens_per_s" in hf else ""
        cap_s = f" ({r['capture_s']:.2f})" if "capture_s" in r else ""
        peak = f"{r['peak_gib']:.1f}" if r.get("peak_gib") is not None else ""
        print(f"| {side} | {r['tokens_per_s']:,.0f} | {ratio} | {r['step_ms']:.2f} | {r['prefill_ms']:.1f} | "
              f"{r['warmup_s']:.2f}{cap_s} | {peak} | {r.get('agree_hf', '')} | {r.get('agree_tunekit', '')} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", default="05b,8b")
    ap.add_argument("--sides", default="hf,tunekit,tunekit-nograph")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--prompt", type=int, default=256)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"],
                    help="float32: a parity run (greedy tokens should then equal transformers')")
    ap.add_argument("--out", default=os.environ.get("OUT"))
    ap.add_argument("--work", default="/tmp/tk-generate-speed")
    ap.add_argument("--timeout", type=int, default=240, help="seconds per side")
    ap.add_argument("--side")
    ap.add_argument("--config")
    a = ap.parse_args()
    if a.side:  # child: one side, result to <work>/<config>-<side>.json
        with open(os.path.join(a.work, f"{a.config}-{a.side}.json"), "w") as f:
            json.dump(run_side(a), f)
        return 0
    os.makedirs(a.work, exist_ok=True)
    try:
        import transformers
        hf_version = transformers.__version__
    except ImportError:
        hf_version = None
    report = {"dtype": a.dtype, "torch": torch.__version__, "transformers": hf_version, "device": a.device,
              "device_name": torch.cuda.get_device_name(0) if a.device.startswith("cuda") else "cpu",
              "batch": a.batch, "prompt": a.prompt, "new": a.new, "configs": {}}
    for name in a.configs.split(","):
        c = CONFIGS[name]
        rep = report["configs"][name] = {"config": c, "sides": {},
                                         "roofline_tokens_per_s": roofline_tokens_per_s(c, a.batch, a.prompt + a.new)}
        for side in a.sides.split(","):
            if side == "hf" and hf_version is None:
                print(f"[{name}/hf] skipped: transformers is not installed", flush=True)
                continue
            t0 = time.time()
            res = os.path.join(a.work, f"{name}-{side}.json")
            if os.path.exists(res):
                os.remove(res)
            cmd = [sys.executable, os.path.abspath(__file__), "--side", side, "--config", name, "--batch",
                   str(a.batch), "--prompt", str(a.prompt), "--new", str(a.new), "--device", a.device, "--work", a.work,
                   "--dtype", a.dtype]
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
                ok, tail = p.returncode == 0, (p.stdout + p.stderr)[-4000:]
            except subprocess.TimeoutExpired as e:
                ok, tail = False, f"timeout after {a.timeout} s: {str(e.stderr or '')[-3000:]}"
            except Exception:
                ok, tail = False, traceback.format_exc()
            if ok and os.path.exists(res):
                with open(res) as f:
                    r = json.load(f)
            else:
                r = {"error": tail}
                print(f"[{name}/{side}] FAILED:\n{tail}", flush=True)
            r["process_s"] = time.time() - t0
            rep["sides"][side] = r
            print(f"[{name}/{side}] " + json.dumps({k: v for k, v in r.items() if k not in ("tokens", "error")}),
                  flush=True)
        sides = rep["sides"]
        for ref in ("hf", "tunekit"):
            if "tokens" in sides.get(ref, {}):
                for side, r in sides.items():
                    if "tokens" in r and side != ref:
                        r[f"agree_{ref}"] = agreement(r["tokens"], sides[ref]["tokens"])
                        r[f"agree1_{ref}"] = first_token_agreement(r["tokens"], sides[ref]["tokens"])
                        r[f"same_weights_as_{ref}"] = r["checksum"] == sides[ref]["checksum"]
        print_table(name, c, a, sides)
        if a.out:
            os.makedirs(a.out, exist_ok=True)
            with open(os.path.join(a.out, "generate-speed.json"), "w") as f:
                json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
