"""Read and write the safetensors format without the `safetensors` package.

Layout: 8-byte little-endian header length N, N bytes of JSON header
`{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}`, then the raw little-endian
tensor bytes (offsets are relative to the end of the header). Reading memory-maps the file so a 16 GB checkpoint
is not read into RAM twice; a sharded checkpoint is a folder with `model.safetensors.index.json`.
"""

import ctypes
import json
import mmap
import os
import sys
from typing import Dict, Iterable, Optional, Tuple

import torch

from .errors import WorkerError

# safetensors dtype name -> torch dtype; float8 only where this torch build has it.
DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
for _name, _attr in (("F8_E4M3", "float8_e4m3fn"), ("F8_E5M2", "float8_e5m2")):
    if hasattr(torch, _attr):
        DTYPES[_name] = getattr(torch, _attr)
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}

INDEX_FILE = "model.safetensors.index.json"
SINGLE_FILE = "model.safetensors"
# A header larger than this is not a safetensors file (the reference implementation uses the same cap).
MAX_HEADER_BYTES = 100_000_000

assert sys.byteorder == "little", "safetensors data is little-endian; big-endian hosts are not supported"


def _bad_file(path: str, what: str) -> WorkerError:
    return WorkerError(
        "WORKER_INVALID_SAFETENSORS",
        f"{path} is not a valid safetensors file: {what}",
        "re-download or re-export the checkpoint; the file may be truncated or not a safetensors file",
    )


def read_header(path: str) -> Tuple[dict, int]:
    """Return (header dict including '__metadata__' if present, byte offset where tensor data starts)."""
    try:
        with open(path, "rb") as f:
            raw_len = f.read(8)
            if len(raw_len) != 8:
                raise _bad_file(path, "shorter than the 8-byte header length")
            n = int.from_bytes(raw_len, "little")
            if n > MAX_HEADER_BYTES:
                raise _bad_file(path, f"header length {n} is implausibly large")
            raw = f.read(n)
    except FileNotFoundError:
        raise WorkerError("WORKER_MODEL_NOT_FOUND", f"no such file: {path}",
                          "check the model_dir / adapter_dir path") from None
    if len(raw) != n:
        raise _bad_file(path, f"header says {n} bytes but the file ends after {len(raw)}")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _bad_file(path, f"header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise _bad_file(path, "header is not a JSON object")
    return header, 8 + n


def read_metadata(path: str) -> Dict[str, str]:
    return dict(read_header(path)[0].get("__metadata__") or {})


def _bytes_to_tensor(buf, start: int, end: int) -> torch.Tensor:
    """A uint8 tensor over buf[start:end], sharing memory with buf where torch allows it."""
    count = end - start
    if count == 0:
        return torch.empty(0, dtype=torch.uint8)
    if hasattr(torch, "frombuffer"):
        return torch.frombuffer(buf, dtype=torch.uint8, count=count, offset=start)
    # Very old torch: copy through a ByteStorage.
    return torch.ByteTensor(torch.ByteStorage.from_buffer(bytes(buf[start:end])))


def load_file(path: str, names: Optional[Iterable[str]] = None) -> Dict[str, torch.Tensor]:
    """Load tensors (all, or only `names`) from one .safetensors file onto the CPU.

    The tensors alias a private copy-on-write memory map of the file: no read happens until a page is touched,
    and writing to a tensor never modifies the file. Callers that keep tensors long-term on CPU may `.clone()`.
    """
    header, data_start = read_header(path)
    file_size = os.path.getsize(path)
    wanted = None if names is None else set(names)
    out: Dict[str, torch.Tensor] = {}
    with open(path, "rb") as f:
        # ACCESS_COPY: a writable (so torch.frombuffer does not warn) private mapping; the file stays untouched.
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY) if file_size > 0 else b""
    for name, info in header.items():
        if name == "__metadata__" or (wanted is not None and name not in wanted):
            continue
        try:
            dtype = DTYPES[info["dtype"]]
            shape = [int(d) for d in info["shape"]]
            begin, end = (int(x) for x in info["data_offsets"])
        except KeyError as e:
            raise _bad_file(path, f"tensor {name!r} has unsupported dtype or a missing field ({e})") from None
        numel = 1
        for d in shape:
            numel *= d
        itemsize = torch.empty(0, dtype=dtype).element_size()
        if end - begin != numel * itemsize or data_start + end > file_size or begin < 0:
            raise _bad_file(path, f"tensor {name!r} offsets {begin}..{end} do not match shape {shape} "
                                  f"{info['dtype']} within a {file_size}-byte file")
        raw = _bytes_to_tensor(mm, data_start + begin, data_start + end)
        if (data_start + begin) % itemsize != 0:
            raw = raw.clone()  # view(dtype) needs the storage offset aligned to the new element size
        t = raw.view(dtype) if dtype != torch.uint8 else raw
        out[name] = t.reshape(shape)
    if wanted is not None and wanted - set(out):
        missing = sorted(wanted - set(out))
        raise _bad_file(path, f"missing tensors {missing[:10]}")
    return out


def _tensor_bytes(t: torch.Tensor) -> bytes:
    """Raw little-endian bytes of a tensor, via its data pointer (no numpy dependency)."""
    t = t.detach().to("cpu").contiguous()
    nbytes = t.numel() * t.element_size()
    return ctypes.string_at(t.data_ptr(), nbytes) if nbytes else b""


def save_file(tensors: Dict[str, torch.Tensor], path: str, metadata: Optional[Dict[str, str]] = None) -> None:
    """Write tensors to `path` atomically (temp file + rename: a crash never leaves a half-written file)."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    order = sorted(tensors)
    for name in order:
        t = tensors[name]
        if t.dtype not in DTYPE_NAMES:
            raise WorkerError("WORKER_INVALID_SAFETENSORS", f"cannot save tensor {name!r} of dtype {t.dtype}",
                              "convert it to float32, float16, bfloat16 or an integer dtype first")
        nbytes = t.numel() * t.element_size()
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)  # pad so tensor data starts 8-byte aligned
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(len(raw).to_bytes(8, "little"))
            f.write(raw)
            for name in order:
                f.write(_tensor_bytes(tensors[name]))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def list_checkpoint_files(model_dir: str) -> Dict[str, str]:
    """Map tensor name -> safetensors file path for a model folder (single file or sharded with an index)."""
    index_path = os.path.join(model_dir, INDEX_FILE)
    single = os.path.join(model_dir, SINGLE_FILE)
    if os.path.exists(index_path):
        with open(index_path, "r", encoding="utf-8") as f:
            weight_map = json.load(f).get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            raise WorkerError("WORKER_INVALID_SAFETENSORS", f"{index_path} has no 'weight_map'",
                              "re-export the sharded checkpoint with its index file")
        return {k: os.path.join(model_dir, v) for k, v in weight_map.items()}
    if os.path.exists(single):
        header, _ = read_header(single)
        return {k: single for k in header if k != "__metadata__"}
    raise WorkerError(
        "WORKER_MODEL_NOT_FOUND",
        f"no {SINGLE_FILE} or {INDEX_FILE} in {model_dir}",
        "point model_dir at a Hugging Face model folder with safetensors weights "
        "(PyTorch .bin checkpoints are not supported: convert them with safetensors' convert script)",
    )


def load_checkpoint(model_dir: str) -> Dict[str, torch.Tensor]:
    """All tensors of a (possibly sharded) HF model folder."""
    by_file: Dict[str, list] = {}
    for name, path in list_checkpoint_files(model_dir).items():
        by_file.setdefault(path, []).append(name)
    out: Dict[str, torch.Tensor] = {}
    for path, names in sorted(by_file.items()):
        out.update(load_file(path, names))
    return out


def save_checkpoint(tensors: Dict[str, torch.Tensor], out_dir: str, max_shard_bytes: Optional[int] = None,
                    metadata: Optional[Dict[str, str]] = None) -> None:
    """Write a HF model folder's weights: one model.safetensors, or shards + index when over max_shard_bytes."""
    os.makedirs(out_dir, exist_ok=True)
    metadata = {"format": "pt", **(metadata or {})}
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    if max_shard_bytes is None or total <= max_shard_bytes:
        save_file(tensors, os.path.join(out_dir, SINGLE_FILE), metadata)
        return
    shards, current, size = [], {}, 0
    for name in sorted(tensors):
        nbytes = tensors[name].numel() * tensors[name].element_size()
        if current and size + nbytes > max_shard_bytes:
            shards.append(current)
            current, size = {}, 0
        current[name] = tensors[name]
        size += nbytes
    shards.append(current)
    weight_map = {}
    for i, shard in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, os.path.join(out_dir, fname), metadata)
        weight_map.update({name: fname for name in shard})
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    with open(os.path.join(out_dir, INDEX_FILE), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=2, sort_keys=True)
