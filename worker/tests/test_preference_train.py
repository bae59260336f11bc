"""Preference training (objective dpo / orpo) end to end on the real stories260k model, and init_adapter."""

import os
import random

import pytest
import torch

from shard_helper import write_shards
from train_fixtures import MODEL_DIR, Recorder, train_params
from tunekit_worker import reference_logps
from tunekit_worker.errors import WorkerError
from tunekit_worker.lora import load_peft_adapter
from tunekit_worker.models.loading import load_model
from tunekit_worker.train import run_training
from tunekit_worker.train_params import parse_train_params
from tunekit_worker.train_state import setup as setup_training

SEQ = 16


def pair_rows(prompt, chosen, rejected):
    """Two unpacked rows (docs/shard-format.md, layout pairs): completion tokens trained, padding 0."""
    rows = []
    for completion in (chosen, rejected):
        ids = prompt + completion
        pad = SEQ - len(ids)
        rows.append((ids + [0] * pad, [0] * len(prompt) + [1] * len(completion) + [0] * pad,
                     [1] * len(ids) + [0] * pad))
    return rows


def write_pairs(out_dir, train_pairs=16, val_pairs=4):
    """Toy preferences: after any prompt, the chosen completion is one fixed pattern, the rejected another."""
    rng = random.Random(3)
    good, bad = [300, 301, 302, 303], [400, 401, 402, 403]
    splits = {}
    for name, n in (("train", train_pairs), ("val", val_pairs)):
        rows = []
        for _ in range(n):
            rows += pair_rows([1] + [rng.randrange(259, 512) for _ in range(3)], good, bad)
        splits[name] = rows
    return write_shards(str(out_dir), splits, SEQ, header_overrides={"layout": "pairs", "packing": False})


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    return write_pairs(tmp_path_factory.mktemp("pairs"))


def params(data, out, **overrides):
    base = train_params(data, str(out), objective="dpo", dpo={"beta": 0.5}, batch_size=4, max_steps=10,
                        optimizer={"lr": 0.02}, eval={"every_steps": 5}, checkpoint={"every_steps": 5, "keep_last": 5})
    base.update(overrides)
    return base


def metric(rec, name):
    return [e["value"] for e in rec.of("metric", name)]


def test_dpo_lora_raises_reward_margin_and_accuracy(pairs, tmp_path):
    rec = Recorder()
    result = run_training(params(pairs, tmp_path), rec)
    margin, accuracy = metric(rec, "train/rewards/margin"), metric(rec, "train/rewards/accuracy")
    assert margin[0] == pytest.approx(0.0, abs=1e-5)  # step 1: the policy is the reference
    assert margin[-1] > 1.0 and accuracy[-1] == 1.0
    assert metric(rec, "val/rewards/accuracy")[-1] == 1.0 and metric(rec, "val/rewards/margin")[-1] > 1.0
    assert metric(rec, "train/loss")[-1] < metric(rec, "train/loss")[0]
    assert {e["name"] for e in rec.of("metric")} >= {
        "train/loss", "train/rewards/chosen", "train/rewards/rejected", "train/rewards/margin",
        "train/rewards/accuracy", "val/loss", "val/rewards/margin", "val/rewards/accuracy"}
    assert result["steps"] == 10 and os.path.exists(os.path.join(result["adapter_dir"], "adapter_model.safetensors"))


def test_reference_log_probs_are_computed_once_and_reused_on_resume(pairs, tmp_path):
    before = reference_logps.PASSES["count"]
    run_training(params(pairs, tmp_path, max_steps=5), Recorder())
    cache = os.path.join(tmp_path, reference_logps.CACHE_FILE)
    assert reference_logps.PASSES["count"] == before + 1 and os.path.exists(cache)
    rec = Recorder()
    result = run_training(params(pairs, tmp_path, max_steps=10, resume_from=str(tmp_path)), rec)
    assert reference_logps.PASSES["count"] == before + 1  # read back, not recomputed
    assert result["steps"] == 10
    assert any("reference log-probs read from" in e["message"] for e in rec.of("log"))


def test_reference_matches_the_base_model(pairs, tmp_path):
    run_training(params(pairs, tmp_path, max_steps=1), Recorder())
    cached = reference_logps.load_file(os.path.join(tmp_path, reference_logps.CACHE_FILE))
    base = load_model(MODEL_DIR, device="cpu", dtype=torch.float32)
    from tunekit_worker.data import load_shards
    from tunekit_worker.preference_loss import PreferenceModule
    want = reference_logps.compute_split(PreferenceModule(base), load_shards(pairs).split("train"), 4, "cpu")
    assert torch.allclose(cached["train"], want, atol=1e-5)


def test_dpo_full_fine_tuning_and_orpo_train(pairs, tmp_path):
    rec = Recorder()
    run_training(params(pairs, tmp_path / "full", method="full", optimizer={"lr": 1e-3}, max_steps=4), rec)
    assert metric(rec, "train/rewards/margin")[-1] > metric(rec, "train/rewards/margin")[0]
    rec = Recorder()
    run_training(params(pairs, tmp_path / "orpo", objective="orpo", orpo={"beta": 0.2}), rec)
    assert metric(rec, "train/loss")[-1] < metric(rec, "train/loss")[0]
    assert metric(rec, "train/rewards/margin")[-1] > metric(rec, "train/rewards/margin")[0]


def test_layout_and_objective_must_agree(pairs, tmp_path):
    with pytest.raises(WorkerError) as e:
        run_training(params(pairs, tmp_path, objective="sft"), Recorder())
    assert e.value.code == "WORKER_BAD_SHARDS" and "holds preference pairs, but objective is sft" in e.value.message


def test_init_adapter_starts_from_the_adapters_weights(pairs, tmp_path):
    first = run_training(params(pairs, tmp_path / "first", max_steps=3), Recorder())
    state = setup_training(parse_train_params(params(pairs, tmp_path / "second", init_adapter=first["adapter_dir"])),
                           Recorder())
    ids = torch.tensor([[1, 300, 301, 302, 400, 401]])
    expected = load_model(MODEL_DIR, device="cpu", dtype=torch.float32)
    load_peft_adapter(expected, first["adapter_dir"])
    base = load_model(MODEL_DIR, device="cpu", dtype=torch.float32)
    state.model.eval()
    with torch.no_grad():
        assert (expected.logits(expected(ids)) - base.logits(base(ids))).abs().max() > 1e-3  # the adapter is trained
        assert torch.allclose(state.model.logits(state.model(ids)), expected.logits(expected(ids)), atol=1e-6)


def test_init_adapter_with_other_lora_settings_lists_the_differences(pairs, tmp_path):
    first = run_training(params(pairs, tmp_path / "first", max_steps=1), Recorder())
    with pytest.raises(WorkerError) as e:
        run_training(params(pairs, tmp_path / "second", init_adapter=first["adapter_dir"],
                            lora={"r": 8, "alpha": 8, "target_modules": ["q_proj", "v_proj"]}), Recorder())
    assert (e.value.code, e.value.message) == (
        "WORKER_ADAPTER_MISMATCH", f"init_adapter {first['adapter_dir']} does not match this run's lora settings: "
        "r: run 8, adapter 4")
