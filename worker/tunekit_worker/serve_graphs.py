"""The serving engine's captured decode steps (CUDA only): one graph per decode bucket, all over the engine's
static buffers (its fed ids, the slot cache, the adapter index), captured as models/decode_step.py does."""

import sys

import torch

from .models.decode_step import WARMUP_STEPS
from .models.fused import fused_pieces


class ServeGraphs:
    """One captured decode step per bucket (CUDA only), all over the same static buffers."""

    def __init__(self, engine):
        self.engine, self.graphs, self.logits = engine, {}, {}

    def run(self, n: int) -> torch.Tensor:
        if n not in self.graphs:
            self._capture(n)
        graph = self.graphs[n]
        if graph is None:
            return self.engine._step(n)
        graph.replay()
        return self.logits[n]

    def _capture(self, n: int) -> None:
        e = self.engine
        cache = e.cache
        # Warmup steps write junk keys at each row's next position (the real step overwrites them before any
        # query reads them) but must not move lengths or leave segments behind.
        saved = (cache.length.clone(), cache.segments.clone())
        try:
            with fused_pieces(e.model):
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    for _ in range(WARMUP_STEPS):
                        e._step(n, advance=False)
                torch.cuda.current_stream().wait_stream(side)
                cache.length.copy_(saved[0])
                cache.segments.copy_(saved[1])
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    self.logits[n] = e._step(n)
            self.graphs[n] = graph
        except Exception as exc:  # costs speed, not the requests
            print(f"tunekit_worker: serve graph capture failed for {n} rows, decoding eagerly: "
                  f"{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            cache.length.copy_(saved[0])
            cache.segments.copy_(saved[1])
            self.graphs[n] = None
