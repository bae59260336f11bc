import json
import os

import pytest

from shard_helper import pack_documents, random_rows, write_shards
from tunekit_worker.data import BatchSampler, load_shards
from tunekit_worker.errors import WorkerError


def test_rows_roundtrip_including_high_values(tmp_path):
    rows = [([1, 4294967295, 70000, 0], [0, 1, 1, 0], [1, 1, 65535, 0])]
    write_shards(str(tmp_path), {"train": rows}, seq_len=4)
    shards = load_shards(str(tmp_path))
    got = shards.split("train").rows([0])
    assert got["tokens"].tolist() == [[1, 4294967295, 70000, 0]]
    assert got["mask"].tolist() == [[0, 1, 1, 0]]
    assert got["segments"].tolist() == [[1, 1, 65535, 0]]
    assert shards.split("val") is None


def test_pack_documents_layout():
    rows = pack_documents([[1, 5, 6], [1, 7]], seq_len=6)
    assert rows == [([1, 5, 6, 1, 7, 0], [0, 1, 1, 0, 1, 0], [1, 1, 1, 2, 2, 0])]


def _expect_bad(path, fragment):
    with pytest.raises(WorkerError) as e:
        load_shards(str(path))
    assert e.value.code == "WORKER_BAD_SHARDS"
    assert fragment in e.value.message
    assert e.value.fix == "re-run tunekit data compile"


def test_missing_header(tmp_path):
    _expect_bad(tmp_path, "header.json is missing")


def test_wrong_format_and_version_reported_together(tmp_path):
    write_shards(str(tmp_path), {"train": random_rows(2, 8)}, seq_len=8,
                 header_overrides={"format": "other", "version": 9})
    _expect_bad(tmp_path, "header format is 'other', expected 'tunekit-shards'; header version is 9")


def test_file_length_mismatch(tmp_path):
    write_shards(str(tmp_path), {"train": random_rows(3, 8), "val": random_rows(1, 8)}, seq_len=8)
    with open(tmp_path / "train.mask.bin", "ab") as f:
        f.write(b"\x00")
    _expect_bad(tmp_path, "train.mask.bin has 25 bytes, expected 24 (3 sequences x seq_len 8 x 1 bytes)")


def test_missing_split_file(tmp_path):
    write_shards(str(tmp_path), {"train": random_rows(2, 8)}, seq_len=8)
    os.remove(tmp_path / "train.segments.bin")
    _expect_bad(tmp_path, "train.segments.bin is missing")


def test_bad_json(tmp_path):
    (tmp_path / "header.json").write_text("{nope")
    _expect_bad(tmp_path, "is not valid JSON")


def test_sampler_is_seeded_and_covers_each_epoch():
    a, b = BatchSampler(10, 3, seed=7), BatchSampler(10, 3, seed=7)
    seq_a = [a.next_batch() for _ in range(8)]
    seq_b = [b.next_batch() for _ in range(8)]
    assert seq_a == seq_b
    assert [len(x) for x in seq_a] == [3, 3, 3, 1, 3, 3, 3, 1]
    assert sorted(sum(seq_a[:4], [])) == list(range(10))
    assert sum(seq_a[:4], []) != sum(seq_a[4:], [])  # reshuffled each epoch
    assert seq_a != [BatchSampler(10, 3, seed=8).next_batch() for _ in range(8)]
    assert a.batches_per_epoch() == 4


def test_sampler_resumes_exactly():
    a = BatchSampler(10, 3, seed=1)
    for _ in range(5):
        a.next_batch()
    state = json.loads(json.dumps(a.state_dict()))
    assert (state["epoch"], state["index"]) == (1, 3)
    b = BatchSampler(10, 3, seed=1)
    b.load_state_dict(state)
    assert [b.next_batch() for _ in range(6)] == [a.next_batch() for _ in range(6)]


def test_sampler_resume_with_other_data_is_refused():
    with pytest.raises(WorkerError) as e:
        BatchSampler(11, 3, seed=1).load_state_dict(BatchSampler(10, 3, seed=1).state_dict())
    assert e.value.code == "WORKER_RESUME_MISMATCH"


def test_sampler_splits_ranks_disjointly():
    ranks = [BatchSampler(10, 2, seed=3, rank=r, world_size=2) for r in range(2)]
    single = BatchSampler(10, 4, seed=3)
    for _ in range(3):
        parts = [s.next_batch() for s in ranks]
        assert parts[0] + parts[1] == single.next_batch()[:len(parts[0]) * 2]
    assert ranks[0].batches_per_epoch() == 3
