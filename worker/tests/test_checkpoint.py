import json
import os

import pytest

from train_fixtures import Recorder, train_params, write_pattern_dataset
from tunekit_worker.checkpoint import find_checkpoint
from tunekit_worker.errors import WorkerError
from tunekit_worker.train import run_training


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_pattern_dataset(str(tmp_path_factory.mktemp("data")))


def test_checkpoint_contents_and_keep_last(data, tmp_path):
    out = str(tmp_path / "run")
    run_training(train_params(data, out, checkpoint={"every_steps": 3, "keep_last": 2}, eval={"every_steps": None}),
                 Recorder())
    assert sorted(os.listdir(os.path.join(out, "checkpoints"))) == ["step-12", "step-9"]
    step = os.path.join(out, "checkpoints", "step-12")
    assert sorted(os.listdir(step)) == ["adapter", "trainable.safetensors", "trainer.pt", "trainer_state.json"]
    with open(os.path.join(step, "trainer_state.json")) as f:
        state = json.load(f)
    assert state["step"] == 12
    assert state["data_position"]["epoch"] >= 1
    assert [h["step"] for h in state["history"] if h["name"] == "train/loss"] == list(range(1, 13))


def test_resume_continues_the_same_loss_curve(data, tmp_path):
    full = Recorder()
    run_training(train_params(data, str(tmp_path / "a"), lora={"r": 4, "alpha": 8, "dropout": 0.0}), full)
    resumed = Recorder()
    result = run_training(train_params(data, str(tmp_path / "b"),
                                       resume_from=str(tmp_path / "a" / "checkpoints" / "step-4")), resumed)
    expected = {s: v for s, v in full.losses().items() if s > 4}
    assert sorted(resumed.losses()) == sorted(expected)
    for s, v in expected.items():
        assert resumed.losses()[s] == pytest.approx(v, abs=1e-6)
    vals_a = {e["step"]: e["value"] for e in full.of("metric", "val/loss")}
    vals_b = {e["step"]: e["value"] for e in resumed.of("metric", "val/loss")}
    assert vals_b == pytest.approx({s: v for s, v in vals_a.items() if s > 4}, abs=1e-6)
    assert result["steps"] == 12


def test_temp_checkpoint_folders_are_ignored_on_resume(data, tmp_path):
    out = tmp_path / "run"
    run_training(train_params(data, str(out), max_steps=4), Recorder())
    stale = out / "checkpoints" / "step-8.tmp-999999"
    stale.mkdir()
    (stale / "trainer_state.json").write_text("{half-written")
    assert find_checkpoint(str(out)) == str(out / "checkpoints" / "step-4")
    rec = Recorder()
    run_training(train_params(data, str(out), max_steps=8, resume_from=str(out)), rec)
    assert rec.of("log")[-1]["message"].startswith(f"resumed from {out / 'checkpoints' / 'step-4'} at step 4")
    assert sorted(rec.losses()) == [5, 6, 7, 8]
    assert not stale.exists()  # the next save removed the dead run's leftovers


def test_resume_without_checkpoint_is_a_clear_error(data, tmp_path):
    with pytest.raises(WorkerError) as e:
        run_training(train_params(data, str(tmp_path / "x"), resume_from=str(tmp_path)), Recorder())
    assert e.value.code == "WORKER_CHECKPOINT_NOT_FOUND"
