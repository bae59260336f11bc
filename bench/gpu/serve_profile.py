"""Where a serving step's time goes (issue 17): the serving engine's decode step against generate()'s.

  python3 bench/gpu/serve_profile.py --config 05b [--out $OUT]

Builds the bench's random-initialised bf16 model, fills all `--batch` serving slots with 256-token prompts and
measures, per decode step: engine.step() as the scheduler runs it (host + GPU, overlapped), the captured
serving graph replayed alone (GPU only), and generate()'s own step (offline, same batch). Then the kernels of
one eager serving step under the compiled pieces (what the graph holds), top 30 by GPU time.
"""

import argparse
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "worker")]


def timed(fn, n):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1e3 / n


def main():
    from generate_speed import CONFIGS, raw_config
    from tunekit_worker.generate import generate
    from tunekit_worker.models.config import parse_config
    from tunekit_worker.models.fused import fused_pieces
    from tunekit_worker.models.llama import CausalLM, init_weights
    from tunekit_worker.serve_engine import ServeEngine, ServeRequest
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="05b")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--prompt", type=int, default=256)
    ap.add_argument("--out", default=os.environ.get("OUT"))
    a = ap.parse_args()
    dev = torch.device("cuda")
    cfg = parse_config(raw_config(CONFIGS[a.config]))
    model = CausalLM(cfg, device=dev, dtype=torch.bfloat16)
    init_weights(model)
    model.eval()
    B, L = a.batch, a.prompt
    prompts = torch.randint(0, cfg.vocab_size, (B, L), generator=torch.Generator().manual_seed(0)).tolist()
    lines = []

    generate(model, prompts, max_new_tokens=65)  # compile + capture (the same capacity as the timed call)
    full = timed(lambda: generate(model, prompts, max_new_tokens=65), 1)
    first = timed(lambda: generate(model, prompts, max_new_tokens=1), 1)
    lines.append(f"generate() batch {B}: {(full - first) / 64:.3f} ms/step (prefill {first:.1f} ms)")

    # One request's admission (prefill + first token) into an idle engine: the floor of time to first token.
    import cProfile
    import io
    import pstats
    solo = ServeEngine(model, B, L + 144)
    with torch.no_grad():
        for rep in range(6):
            solo.submit(ServeRequest(rid=f"w{rep}", prompt=prompts[rep], max_new_tokens=1))
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            solo.step()  # admits, samples the first token, finishes (max_new_tokens 1)
            torch.cuda.synchronize()
            ms = (time.perf_counter() - t0) * 1e3
        lines.append(f"one {L}-token request admitted alone: {ms:.1f} ms")
        solo.submit(ServeRequest(rid="p", prompt=prompts[7], max_new_tokens=1))
        prof_host = cProfile.Profile()
        prof_host.enable()
        solo.step()
        torch.cuda.synchronize()
        prof_host.disable()
    buf = io.StringIO()
    pstats.Stats(prof_host, stream=buf).sort_stats("cumulative").print_stats(35)
    lines.append(buf.getvalue())
    del solo

    engine = ServeEngine(model, B, L + 144)  # as serve_speed.py (+ 128 + 16)
    for i, p in enumerate(prompts):
        engine.submit(ServeRequest(rid=i, prompt=p, max_new_tokens=140))
    with torch.no_grad():
        for _ in range(5):
            engine.step()  # admits all, captures the bucket's graph
        lines.append(f"engine.step() at {B} rows: {timed(engine.step, 50):.3f} ms/step")
        lines.append(f"serving graph replay alone: {timed(lambda: engine.graphs.run(B), 50):.3f} ms/step")
        host = []
        for _ in range(20):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            engine.step()
            host.append((time.perf_counter() - t0) * 1e3)
        lines.append(f"engine.step() host time (GPU idle at entry): median {sorted(host)[10]:.3f} ms")
        from torch.profiler import ProfilerActivity, profile
        with fused_pieces(model):
            engine._step(B, advance=False)
            torch.cuda.synchronize()
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                engine._step(B, advance=False)
                torch.cuda.synchronize()
    # generate()'s decode step, eager under the same compiled pieces (what its graph holds), for comparison.
    from tunekit_worker.models.decode_step import DecodeRunner
    runner = DecodeRunner(model, B, L + 144, use_graph=False)
    ids = torch.tensor(prompts, device=dev)
    with torch.no_grad(), fused_pieces(model):
        runner.prefill(model, ids, torch.ones_like(ids), torch.full((B,), L, device=dev))
        runner.step(model)
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as gen_prof:
            runner.step(model)
            torch.cuda.synchronize()
    events = prof.key_averages()
    gpu = [e for e in events if (getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0)) > 0]
    lines.append(f"GPU ops in one eager serving step: {sum(e.count for e in gpu)}")
    lines.append(events.table(sort_by="self_cuda_time_total", row_limit=30, max_name_column_width=90))
    gen = gen_prof.key_averages()
    lines.append("generate()'s eager decode step:")
    lines.append(gen.table(sort_by="self_cuda_time_total", row_limit=30, max_name_column_width=90))
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(os.path.join(a.out, f"serve-profile-{a.config}.txt"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
