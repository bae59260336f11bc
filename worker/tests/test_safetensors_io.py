import json
import os
import struct

import pytest
import torch

from tunekit_worker.errors import WorkerError
from tunekit_worker.safetensors_io import (load_checkpoint, load_file, read_header, read_metadata, save_checkpoint,
                                           save_file)


def test_reads_hand_built_file(tmp_path):
    header = json.dumps({"__metadata__": {"format": "pt"},
                         "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                         "b": {"dtype": "I64", "shape": [1, 1], "data_offsets": [8, 16]}}).encode()
    path = tmp_path / "x.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + struct.pack("<2f", 1.5, -2.0) + struct.pack("<q", 7))
    out = load_file(str(path))
    assert sorted(out) == ["a", "b"]
    assert torch.equal(out["a"], torch.tensor([1.5, -2.0]))
    assert torch.equal(out["b"], torch.tensor([[7]]))
    assert read_metadata(str(path)) == {"format": "pt"}


def test_round_trips_every_dtype_and_metadata(tmp_path):
    tensors = {
        "f32": torch.tensor([[1.0, -2.5], [3.25, 0.0]]),
        "f16": torch.tensor([0.5, 65504.0], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -3.0, 1e30], dtype=torch.bfloat16),
        "f64": torch.tensor([1e-300]),
        "i64": torch.tensor([-(2 ** 40), 5]),
        "i32": torch.tensor([1, -1], dtype=torch.int32),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False]),
        "scalar": torch.tensor(3.0),
        "empty": torch.zeros(0, 4),
    }
    tensors["f64"] = tensors["f64"].double()
    path = str(tmp_path / "all.safetensors")
    save_file(tensors, path, {"step": "3"})
    out = load_file(path)
    assert sorted(out) == sorted(tensors)
    for k, v in tensors.items():
        assert out[k].dtype == v.dtype and out[k].shape == v.shape and torch.equal(out[k], v), k
    assert read_metadata(path) == {"step": "3"}
    header, start = read_header(path)
    assert start % 8 == 0  # tensor data starts aligned
    assert header["f16"] == {"dtype": "F16", "shape": [2], "data_offsets": header["f16"]["data_offsets"]}


def test_loaded_tensors_do_not_write_through_to_the_file(tmp_path):
    path = str(tmp_path / "w.safetensors")
    save_file({"w": torch.ones(4)}, path)
    load_file(path)["w"].mul_(0)
    assert torch.equal(load_file(path)["w"], torch.ones(4))


def test_sharded_checkpoint_with_index(tmp_path):
    tensors = {f"t{i}": torch.full((4,), float(i)) for i in range(5)}  # 16 bytes each
    save_checkpoint(tensors, str(tmp_path), max_shard_bytes=40)
    files = sorted(os.listdir(tmp_path))
    assert files == ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                     "model-00003-of-00003.safetensors", "model.safetensors.index.json"]
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    assert index == {"metadata": {"total_size": 80},
                     "weight_map": {"t0": "model-00001-of-00003.safetensors", "t1": "model-00001-of-00003.safetensors",
                                    "t2": "model-00002-of-00003.safetensors", "t3": "model-00002-of-00003.safetensors",
                                    "t4": "model-00003-of-00003.safetensors"}}
    out = load_checkpoint(str(tmp_path))
    assert sorted(out) == sorted(tensors) and all(torch.equal(out[k], tensors[k]) for k in tensors)


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.safetensors"
    save_file({"w": torch.ones(4)}, str(path))
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(WorkerError) as e:
        load_file(str(path))
    assert e.value.code == "WORKER_INVALID_SAFETENSORS" and "'w'" in e.value.message


def test_folder_without_weights_is_a_clear_error(tmp_path):
    with pytest.raises(WorkerError) as e:
        load_checkpoint(str(tmp_path))
    assert e.value.code == "WORKER_MODEL_NOT_FOUND" and str(tmp_path) in e.value.message and e.value.fix
