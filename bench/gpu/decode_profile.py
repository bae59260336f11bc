"""Where a decode step's GPU time goes (issue 10, generation): the top kernels of eager decode steps.

  python3 bench/gpu/decode_profile.py --config 8b --batch 64 --prompt 256 [--out $OUT]

Builds the bench's model (random init, bf16), prefills `batch` prompts into a static cache, then profiles 10
eager decode steps (the kernels a CUDA graph replays, without the launch gaps) and times 50 graph replays.
"""

import argparse
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "worker")]


def main():
    from generate_speed import CONFIGS, raw_config
    from tunekit_worker.models.config import parse_config
    from tunekit_worker.models.decode_step import DecodeRunner
    from tunekit_worker.models.llama import CausalLM, init_weights
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="8b")
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
    ids = torch.randint(0, cfg.vocab_size, (B, L), device=dev)
    seg = torch.ones_like(ids)
    runner = DecodeRunner(model, B, L + 128, use_graph=True)
    lines = []
    with torch.no_grad():
        runner.prefill(model, ids, seg, torch.full((B,), L, device=dev))
        tok = torch.zeros(B, dtype=torch.long, device=dev)
        for _ in range(3):
            runner.decode(model, tok)  # eager warm-up + capture on the first call
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(50):
            runner.graph.replay()
        torch.cuda.synchronize()
        lines.append(f"graph replay: {(time.perf_counter() - t0) * 1e3 / 50:.3f} ms/step")
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(10):
                runner.step(model)
            torch.cuda.synchronize()
    lines.append(prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=40, max_name_column_width=90))
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(os.path.join(a.out, f"decode-profile-{a.config}.txt"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
