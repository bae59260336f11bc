"""Serving speed: the worker's continuous-batching serving mode under 1 / 16 / 64 concurrent streaming clients,
against the offline batch-64 generate() throughput and transformers' generate() in the same process (issue 17).

Random-initialised 0.5B (Qwen2) and 8B (Llama) architectures, as bench/gpu/generate_speed.py builds them (the
tunekit model shares the HF model's weight tensors). Each client sends `--rounds` requests back to back (256
random prompt ids, 128 new tokens, greedy, no stop tokens), so requests join and leave the running batch. The
requests go through ServeSession, the protocol's own scheduler thread and inbox, with an in-process event sink
that timestamps every token event: output tokens/s (all tokens / wall time), time to first token p50/p99 (submit
-> first token event), inter-token latency p50/p99 (gaps between a request's token events).
`--adapters K` adds a run at the highest concurrency with K random LoRA adapters (r 16, q/k/v/o) spread over the
clients, all in one batch.

  python3 bench/gpu/serve_speed.py --configs 05b,8b
  python3 bench/gpu/serve_speed.py --configs tiny --device cpu --clients 1,4 --prompt 16 --new 8 --batch 4  # smoke
Writes serve-speed.json to --out (default $OUT).
"""

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import threading
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "worker"))
from generate_speed import CONFIGS, SEED, build_hf, prompts_for, raw_config  # noqa: E402


def pct(values, q):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def build(c, device, dtype, with_hf):
    """(tunekit CausalLM, HF model or None) on the same weight tensors."""
    from tunekit_worker.models.config import parse_config
    from tunekit_worker.models.llama import CausalLM, init_weights
    cfg = parse_config(raw_config(c))
    hf = None
    if with_hf:
        try:
            hf = build_hf(c, device, dtype)
        except ImportError:
            hf = None
    if hf is None:
        model = CausalLM(cfg, device=device, dtype=torch.float32)
        init_weights(model, generator=torch.Generator(device=device).manual_seed(SEED))
        return model.to(dtype).eval(), None
    model = CausalLM(cfg, device="meta", dtype=dtype)
    expected = set(model.state_dict())
    model.load_state_dict({k: v for k, v in hf.state_dict().items() if k in expected}, assign=True)
    model._inv_freq = {}
    return model.eval(), hf


def offline(model, hf, prompts, new, device):
    from tunekit_worker.generate import generate
    out = {}
    generate(model, prompts, max_new_tokens=new)  # warmup + capture
    sync(device)
    t0 = time.perf_counter()
    generate(model, prompts, max_new_tokens=new)
    sync(device)
    out["tunekit_generate_tokens_per_s"] = len(prompts) * new / (time.perf_counter() - t0)
    if hf is not None:
        x = torch.tensor(prompts, device=device)
        kw = dict(attention_mask=torch.ones_like(x), do_sample=False, pad_token_id=0, min_new_tokens=new)
        with torch.no_grad():
            hf.generate(input_ids=x, max_new_tokens=8, **dict(kw, min_new_tokens=8))
            sync(device)
            t0 = time.perf_counter()
            hf.generate(input_ids=x, max_new_tokens=new, **kw)
            sync(device)
        out["hf_generate_tokens_per_s"] = len(prompts) * new / (time.perf_counter() - t0)
    return out


class Clients:
    """N closed-loop clients on one ServeSession; every token event timestamped."""

    def __init__(self, session, prompts, new, rounds, adapters=()):
        self.session, self.prompts, self.new, self.rounds = session, prompts, new, rounds
        self.adapters = list(adapters)
        self.lock = threading.Lock()
        self.finished = threading.Event()
        self.records = {}
        self.left = 0
        self.next_id = 0

    def run(self, n):
        engine = self.session.engine
        before = (engine.steps, engine.waves, engine.admit_s)
        self.left = n * self.rounds
        self.finished.clear()
        t0 = time.perf_counter()
        for client in range(n):
            self._send(client, 0)
        self.finished.wait()
        wall = time.perf_counter() - t0
        ttft = [r["tokens"][0] - r["sent"] for r in self.records.values() if r["tokens"]]
        gaps = [b - a for r in self.records.values() for a, b in zip(r["tokens"], r["tokens"][1:])]
        tokens = sum(r["count"] for r in self.records.values())
        self.records = {}
        steps, waves, admit_s = (a - b for a, b in zip((engine.steps, engine.waves, engine.admit_s), before))
        return {"decode_steps": steps, "prefill_waves": waves, "prefill_s": admit_s, "clients": n, "requests": n * self.rounds, "output_tokens": tokens, "wall_s": wall,
                "tokens_per_s": tokens / wall, "ttft_p50_ms": pct(ttft, 50) * 1e3, "ttft_p99_ms": pct(ttft, 99) * 1e3,
                "itl_p50_ms": (pct(gaps, 50) or 0) * 1e3, "itl_p99_ms": (pct(gaps, 99) or 0) * 1e3}

    def _send(self, client, round_):
        with self.lock:
            rid = f"c{client}-{round_}-{self.next_id}"
            self.next_id += 1
            self.records[rid] = {"sent": time.perf_counter(), "tokens": [], "count": 0}
        adapter = self.adapters[client % len(self.adapters)] if self.adapters else None

        def emit(event, rid=rid):
            now = time.perf_counter()
            rec = self.records[rid]
            if event["event"] == "token":
                rec["tokens"].append(now)
                rec["count"] += len(event["ids"])
            elif event["event"] in ("done", "error"):
                if event["event"] == "error":
                    print("request failed:", event, flush=True)
                if round_ + 1 < self.rounds:
                    self._send(client, round_ + 1)
                with self.lock:
                    self.left -= 1
                    if self.left == 0:
                        self.finished.set()

        prompt = self.prompts[(client * self.rounds + round_) % len(self.prompts)]
        self.session.submit(rid, {"prompt": prompt, "max_new_tokens": self.new, "adapter": adapter}, emit)


def random_adapters(model, k, workdir, device):
    import torch.nn as nn
    from tunekit_worker.lora import PEFT_PREFIX, LoraConfig, peft_adapter_config
    from tunekit_worker.safetensors_io import save_file
    out = {}
    for i in range(k):
        folder = os.path.join(workdir, f"adapter-{i}")  # PEFT files written directly (no wrapped model copy)
        cfg = LoraConfig(r=16, alpha=32, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
        g = torch.Generator().manual_seed(100 + i)
        tensors = {}
        for name, m in model.named_modules():
            if isinstance(m, nn.Linear) and name.rsplit(".", 1)[-1] in cfg.target_modules:
                tensors[f"{PEFT_PREFIX}{name}.lora_A.weight"] = torch.randn(16, m.in_features, generator=g) * 0.01
                tensors[f"{PEFT_PREFIX}{name}.lora_B.weight"] = torch.randn(m.out_features, 16, generator=g) * 0.01
        os.makedirs(folder, exist_ok=True)
        save_file(tensors, os.path.join(folder, "adapter_model.safetensors"), {"format": "pt"})
        with open(os.path.join(folder, "adapter_config.json"), "w") as f:
            json.dump(peft_adapter_config(cfg, "random"), f)
        out[f"a{i}"] = folder
    return out


def bench_config(name, a, device, dtype):
    from tunekit_worker.multi_lora import install_adapters
    from tunekit_worker.serve_engine import ServeEngine
    from tunekit_worker.serve_session import ServeSession
    c = CONFIGS[name]
    t0 = time.perf_counter()
    model, hf = build(c, device, dtype, with_hf=not a.no_hf)
    rep = {"build_s": time.perf_counter() - t0}
    prompts = prompts_for(c, max(a.batch, max(a.clients)), a.prompt).tolist()
    rep.update(offline(model, hf, prompts[:a.batch], a.new, device))
    print(f"[{name}] offline: {json.dumps(rep)}", flush=True)
    del hf
    gc.collect()
    from tunekit_worker.models.decode_step import release_runners
    release_runners(model)
    if device.type == "cuda":
        torch.cuda.empty_cache()
    max_len = a.prompt + a.new + 16
    t0 = time.perf_counter()
    engine = ServeEngine(model, a.batch, max_len)
    session = ServeSession(engine, {})
    clients = Clients(session, prompts, a.new, a.rounds)
    b = 1
    while b <= a.batch:  # warm every decode bucket (capture its graph) outside the timed runs
        Clients(session, prompts, 4, 1).run(b)
        b *= 2
    rep["serve_warmup_s"] = time.perf_counter() - t0
    rep["cuda_graphs"] = engine.graphs is not None and any(g is not None for g in engine.graphs.graphs.values())
    rep["serve"] = []
    for n in a.clients:
        r = clients.run(n)
        rep["serve"].append(r)
        print(f"[{name}] serve {json.dumps(r)}", flush=True)
    session.stop()
    if a.adapters:
        del engine, session
        gc.collect()
        with tempfile.TemporaryDirectory() as tmp:
            names = install_adapters(model, random_adapters(model, a.adapters, tmp, device), a.batch)
            engine = ServeEngine(model, a.batch, max_len)
            session = ServeSession(engine, names)
            Clients(session, prompts, 4, 1, adapters=sorted(names)).run(a.batch)
            n = max(a.clients)
            r = Clients(session, prompts, a.new, a.rounds, adapters=sorted(names)).run(n)
            r["adapters"] = a.adapters
            rep["serve_adapters"] = r
            print(f"[{name}] serve with {a.adapters} adapters {json.dumps(r)}", flush=True)
            session.stop()
    return rep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", default="05b,8b")
    ap.add_argument("--clients", default="1,16,64")
    ap.add_argument("--batch", type=int, default=64, help="serving slots, and the offline generate batch")
    ap.add_argument("--prompt", type=int, default=256)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--adapters", type=int, default=0)
    ap.add_argument("--no-hf", action="store_true")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", default=os.environ.get("OUT"))
    a = ap.parse_args()
    a.clients = [int(x) for x in a.clients.split(",")]
    device = torch.device(a.device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    report = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
              "prompt": a.prompt, "new": a.new, "rounds": a.rounds, "slots": a.batch, "configs": {}}
    for name in a.configs.split(","):
        try:
            report["configs"][name] = bench_config(name, a, device, dtype)
        except Exception as exc:  # one config failing still leaves the other's figures
            import traceback
            traceback.print_exc()
            report["configs"][name] = {"error": f"{type(exc).__name__}: {exc}"}
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
        if a.out:
            os.makedirs(a.out, exist_ok=True)
            with open(os.path.join(a.out, "serve-speed.json"), "w") as f:
                json.dump(report, f, indent=1)
    for name, rep in report["configs"].items():
        if "serve" not in rep:
            continue
        base = rep["tunekit_generate_tokens_per_s"]
        print(f"\n{name}: offline generate b{a.batch} {base:,.0f} tok/s, transformers "
              f"{rep.get('hf_generate_tokens_per_s', 0):,.0f} tok/s")
        print("| clients | output tokens/s | vs offline b64 | TTFT p50 / p99 ms | ITL p50 / p99 ms | decode steps | "
              "prefill waves / time | wall |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in rep["serve"] + ([rep["serve_adapters"]] if "serve_adapters" in rep else []):
            label = f"{r['clients']}" + (f" ({r['adapters']} adapters)" if "adapters" in r else "")
            print(f"| {label} | {r['tokens_per_s']:,.0f} | {r['tokens_per_s'] / base:.2f} | {r['ttft_p50_ms']:.0f} / "
                  f"{r['ttft_p99_ms']:.0f} | {r['itl_p50_ms']:.1f} / {r['itl_p99_ms']:.1f} | {r['decode_steps']} | "
                  f"{r['prefill_waves']} / {r['prefill_s']:.2f} s | {r['wall_s']:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
