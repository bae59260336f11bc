"""Memory-mapped compiled shards (docs/shard-format.md) and a seeded, resumable batch sampler.

The files are mapped copy-on-write and reinterpreted in place: uint32 tokens as int32, uint16 segments as int16,
widened to int64 (and masked back to unsigned) one batch at a time, so a multi-GB split costs no RAM up front.
"""

import mmap
import os
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional

import torch

from .errors import WorkerError
from .json_file import read_json_object

FORMAT = "tunekit-shards"
VERSION = 1
FIX = "re-run tunekit data compile"
# element bytes and the signed torch dtype of the same width used to view each file
FILES = {"tokens": (4, torch.int32), "mask": (1, torch.uint8), "segments": (2, torch.int16)}

assert sys.byteorder == "little", "shard files are little-endian; big-endian hosts are not supported"


def _bad(message: str) -> WorkerError:
    return WorkerError("WORKER_BAD_SHARDS", message, FIX)


def _map_file(path: str, dtype: torch.dtype, count: int) -> torch.Tensor:
    """A 1-D tensor of `count` elements aliasing a private (copy-on-write) memory map of `path`."""
    if count == 0:
        return torch.empty(0, dtype=dtype)
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    return torch.frombuffer(mm, dtype=dtype, count=count)


@dataclass
class Split:
    """One split: `sequences` rows of `seq_len` tokens. Rows are materialised as int64 on demand."""
    name: str
    sequences: int
    seq_len: int
    tokens: torch.Tensor    # int32 view of uint32 [sequences * seq_len]
    mask: torch.Tensor      # uint8 [sequences * seq_len]
    segments: torch.Tensor  # int16 view of uint16 [sequences * seq_len]
    stats: dict

    def rows(self, indices: List[int]) -> Dict[str, torch.Tensor]:
        """{"tokens","mask","segments"}: int64 [len(indices), seq_len] copies of the selected sequences."""
        idx = torch.tensor(indices, dtype=torch.int64)
        shape = (self.sequences, self.seq_len)
        tokens = self.tokens.view(shape).index_select(0, idx).to(torch.int64) & 0xFFFFFFFF
        mask = self.mask.view(shape).index_select(0, idx).to(torch.int64)
        segments = self.segments.view(shape).index_select(0, idx).to(torch.int64) & 0xFFFF
        return {"tokens": tokens, "mask": mask, "segments": segments}


@dataclass
class Shards:
    path: str
    header: dict
    seq_len: int
    splits: Dict[str, Split]

    def split(self, name: str) -> Optional[Split]:
        s = self.splits.get(name)
        return s if s is not None and s.sequences > 0 else None


def _read_header(data_dir: str) -> dict:
    path = os.path.join(data_dir, "header.json")
    if not os.path.isdir(data_dir):
        raise _bad(f"data_dir {data_dir} does not exist or is not a folder")
    return read_json_object(path, ("WORKER_BAD_SHARDS", f"{path} is missing: {data_dir} is not a compiled shard "
                                   "folder", FIX), ("WORKER_BAD_SHARDS", FIX))


def load_shards(data_dir: str) -> Shards:
    """Validate header.json against the files and map every split. Raises WORKER_BAD_SHARDS on any mismatch."""
    header = _read_header(data_dir)
    problems = []
    if header.get("format") != FORMAT:
        problems.append(f"header format is {header.get('format')!r}, expected {FORMAT!r}")
    if header.get("version") != VERSION:
        problems.append(f"header version is {header.get('version')!r}, this worker reads version {VERSION}")
    seq_len = header.get("seq_len")
    if not isinstance(seq_len, int) or isinstance(seq_len, bool) or seq_len < 2:
        problems.append(f"seq_len is {seq_len!r}, expected an integer >= 2")
    splits_meta = header.get("splits")
    if not isinstance(splits_meta, dict) or "train" not in splits_meta:
        problems.append("header has no splits.train")
    layout = header.get("layout", "packed")
    if layout not in ("packed", "pairs"):
        problems.append(f"layout is {layout!r}, expected 'packed' or 'pairs'")
    if problems:
        raise _bad(f"{data_dir}/header.json: " + "; ".join(problems))
    splits: Dict[str, Split] = {}
    for name, meta in sorted(splits_meta.items()):
        n = meta.get("sequences") if isinstance(meta, dict) else None
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            problems.append(f"splits.{name}.sequences is {n!r}, expected a non-negative integer")
            continue
        if layout == "pairs" and n % 2:
            problems.append(f"splits.{name}.sequences is {n}: layout 'pairs' needs an even count (chosen, rejected)")
            continue
        arrays = {}
        for kind, (itemsize, dtype) in FILES.items():
            path = os.path.join(data_dir, f"{name}.{kind}.bin")
            expected = n * seq_len * itemsize
            if not os.path.exists(path):
                problems.append(f"{name}.{kind}.bin is missing (header lists {n} {name} sequences)")
                continue
            size = os.path.getsize(path)
            if size != expected:
                problems.append(f"{name}.{kind}.bin has {size} bytes, expected {expected} "
                                f"({n} sequences x seq_len {seq_len} x {itemsize} bytes)")
                continue
            arrays[kind] = _map_file(path, dtype, n * seq_len)
        if len(arrays) == len(FILES):
            splits[name] = Split(name, n, seq_len, arrays["tokens"], arrays["mask"], arrays["segments"], meta)
    if problems:
        raise _bad(f"shards in {data_dir} do not match header.json: " + "; ".join(problems))
    if splits["train"].sequences == 0:
        raise _bad(f"{data_dir} has 0 train sequences")
    return Shards(data_dir, header, seq_len, splits)


class BatchSampler:
    """Endless stream of batches over a split, reshuffled every epoch from `seed`.

    The state is `(epoch, index)`: `index` sequences of epoch `epoch`'s order have been consumed (counted over all
    ranks). Under data parallelism every rank walks the same order and takes its own contiguous slice of each
    global batch, so the union over ranks is what one process with batch_size*world_size would see.
    """

    def __init__(self, num_sequences: int, batch_size: int, seed: int, shuffle: bool = True,
                 rank: int = 0, world_size: int = 1):
        assert num_sequences > 0 and batch_size > 0, "need at least one sequence and a positive batch size"
        assert 0 <= rank < world_size, f"rank {rank} outside world size {world_size}"
        self.n, self.batch_size, self.seed, self.shuffle = num_sequences, batch_size, seed, shuffle
        self.rank, self.world_size = rank, world_size
        self.epoch, self.index = 0, 0
        self._order_epoch, self._order = -1, []

    def order(self, epoch: int) -> List[int]:
        if self._order_epoch != epoch:
            if self.shuffle:
                g = torch.Generator()
                g.manual_seed(self.seed * 1_000_003 + epoch)
                self._order = torch.randperm(self.n, generator=g).tolist()
            else:
                self._order = list(range(self.n))
            self._order_epoch = epoch
        return self._order

    def batches_per_epoch(self) -> int:
        """Micro-batches per epoch per rank (a last partial batch counts; ranks drop the indivisible remainder)."""
        global_batch = self.batch_size * self.world_size
        full, rest = divmod(self.n, global_batch)
        return full + (1 if rest // self.world_size > 0 else 0)

    def next_batch(self) -> List[int]:
        """This rank's sequence indices for the next micro-batch; moves to the next epoch when one runs out."""
        global_batch = self.batch_size * self.world_size
        if self.n - self.index < self.world_size:  # nothing (or less than one row per rank) left this epoch
            self.epoch, self.index = self.epoch + 1, 0
        order = self.order(self.epoch)
        take = min(global_batch, self.n - self.index)
        per_rank = take // self.world_size
        start = self.index + self.rank * per_rank
        batch = order[start:start + per_rank]
        self.index += take if self.world_size == 1 else per_rank * self.world_size
        if self.n - self.index < self.world_size:
            self.epoch, self.index = self.epoch + 1, 0
        return batch

    def progress(self) -> float:
        """Epochs consumed, as a float (2.5 = half-way through the third epoch)."""
        return self.epoch + self.index / self.n

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "index": self.index, "seed": self.seed, "num_sequences": self.n,
                "batch_size": self.batch_size, "world_size": self.world_size}

    def load_state_dict(self, state: dict) -> None:
        if state.get("num_sequences") != self.n:
            raise WorkerError("WORKER_RESUME_MISMATCH",
                              f"the checkpoint was trained on {state.get('num_sequences')} sequences, "
                              f"the data now has {self.n}",
                              "resume with the same data_dir the run started with, or start a new run")
        self.epoch, self.index = int(state["epoch"]), int(state["index"])
