import json
import os

import pytest
import torch

from train_fixtures import MODEL_DIR, Recorder, train_params, write_pattern_dataset
from tunekit_worker import safetensors_io
from tunekit_worker.data import load_shards
from tunekit_worker.errors import WorkerError
from tunekit_worker.loss import LossModule
from tunekit_worker.models.loading import load_model
from tunekit_worker.parallel import Parallel
from tunekit_worker.train import evaluate, run_training


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_pattern_dataset(str(tmp_path_factory.mktemp("data")))


def _val_loss(model, data):
    return evaluate(LossModule(model), load_shards(data).split("val"), 4, None, torch.device("cpu"), Parallel())


def test_lora_run_lowers_validation_loss(data, tmp_path):
    rec = Recorder()
    out = str(tmp_path / "run")
    result = run_training(train_params(data, out, max_steps=30, eval={"every_steps": 10}), rec)
    base = _val_loss(load_model(MODEL_DIR), data)
    vals = [e["value"] for e in rec.of("metric", "val/loss")]
    assert [e["step"] for e in rec.of("metric", "val/loss")] == [10, 20, 30]
    assert vals[-1] < vals[0] < base
    assert vals[-1] < base - 5.0, (base, vals)
    assert result["stopped"] == "completed" and result["steps"] == 30
    assert result["best_val_loss"] == vals[-1] and result["best_step"] == 30
    # the exported adapter, applied to a fresh base model, reproduces the final validation loss
    from tunekit_worker.lora import load_peft_adapter
    model = load_model(MODEL_DIR)
    load_peft_adapter(model, result["adapter_dir"])
    assert _val_loss(model, data) == pytest.approx(vals[-1], abs=1e-5)
    with open(os.path.join(out, "adapter", "adapter_config.json")) as f:
        assert json.load(f)["r"] == 4
    progress = rec.of("progress")
    assert [e["step"] for e in progress] == list(range(1, 31))
    assert {"total_steps", "epoch", "loss", "lr", "tokens_per_s", "eta_s"} <= set(progress[0])
    assert progress[-1]["eta_s"] == 0.0 and progress[0]["tokens_per_s"] > 0
    names = {e["name"] for e in rec.of("metric")}
    assert names == {"train/loss", "train/lr", "train/grad_norm", "train/tokens_per_s", "val/loss"}


def test_early_stopping_on_plateau_exports_best(data, tmp_path):
    rec = Recorder()
    out = str(tmp_path / "run")
    # a tiny lr keeps val loss flat; min_delta makes every later eval count as "no improvement"
    result = run_training(train_params(data, out, max_steps=40, optimizer={"lr": 1e-7},
                                       eval={"every_steps": 2}, early_stopping={"patience": 2, "min_delta": 0.5}),
                          rec)
    assert result["stopped"] == "early_stopping"
    assert result["steps"] == 6 and result["best_step"] == 2 and result["exported_step"] == 2
    assert [(e["step"], e["best"]) for e in rec.of("checkpoint")] == [(2, True), (4, False), (6, False)]
    best = safetensors_io.load_file(os.path.join(out, "best", "trainable.safetensors"))
    final = safetensors_io.load_file(os.path.join(out, "checkpoints", "step-6", "trainable.safetensors"))
    exported = safetensors_io.load_file(os.path.join(out, "adapter", "adapter_model.safetensors"))
    name = "model.layers.0.self_attn.q_proj.lora_A"
    assert not torch.equal(best[name + ".weight" if name + ".weight" in best else name],
                           final[name + ".weight" if name + ".weight" in final else name])
    peft_name = next(k for k in exported if "layers.0.self_attn.q_proj.lora_A" in k)
    best_a = next(v for k, v in best.items() if "layers.0.self_attn.q_proj.lora_A" in k)
    assert torch.equal(exported[peft_name].float(), best_a.float())


def test_full_fine_tuning_exports_a_loadable_model(data, tmp_path):
    out = str(tmp_path / "run")
    result = run_training(train_params(data, out, method="full", max_steps=3, optimizer={"lr": 1e-3},
                                       eval={"every_steps": 3}), Recorder())
    assert result["adapter_dir"] is None and result["model_dir"] == os.path.join(out, "model")
    tuned = load_model(result["model_dir"])
    assert _val_loss(tuned, data) == pytest.approx(result["best_val_loss"], abs=1e-5)
    assert os.path.exists(os.path.join(out, "model", "tokenizer.json"))


def test_bad_params_are_reported_together(data, tmp_path):
    with pytest.raises(WorkerError) as e:
        run_training({"model_dir": MODEL_DIR, "data_dir": data, "output_dir": str(tmp_path), "batch_size": 0,
                      "optimizer": {"lr": -1}, "method": "qlora", "colour": "red"}, Recorder())
    assert e.value.code == "WORKER_BAD_PARAMS"
    assert e.value.message == ("invalid train params: params.batch_size: got 0, expected an integer >= 1; "
                               "params.colour: unknown param (got \"red\"), known: model_dir, data_dir, "
                               "output_dir, resume_from, init_adapter, method, quantize, double_quant, objective, dpo, orpo, lora, "
                               "optimizer, schedule, batch_size, grad_accum, "
                               "epochs, max_steps, max_grad_norm, gradient_checkpointing, distributed, compile, "
                               "seed, eval, early_stopping, checkpoint, device, dtype, log_every; params.method: "
                               "got \"qlora\", expected one of \"lora\", \"full\"; params.optimizer.lr: got -1, "
                               "expected a number > 0")


def test_compile_param_is_validated_and_ignored_where_torch_cannot_compile(data, tmp_path):
    with pytest.raises(WorkerError) as e:
        run_training(train_params(data, str(tmp_path / "a"), compile="yes"), Recorder())
    assert e.value.message == "invalid train params: params.compile: got \"yes\", expected true or false or null"
    rec = Recorder()
    run_training(train_params(data, str(tmp_path / "b"), compile=False, max_steps=1), rec)
    assert not [x for x in rec.events if x.get("level") == "warning"]


def test_distributed_and_checkpointing_params_are_validated(data, tmp_path):
    with pytest.raises(WorkerError) as e:
        run_training(train_params(data, str(tmp_path / "a"), distributed="fsdp", gradient_checkpointing=-1), Recorder())
    assert e.value.message == ("invalid train params: params.gradient_checkpointing: got -1, expected true or "
                               "false or an integer >= 0; params.distributed: fsdp is for full fine-tuning, but "
                               "method is \"lora\" (use ddp for LoRA)")
    with pytest.raises(WorkerError) as e:
        run_training(train_params(data, str(tmp_path / "b"), distributed="zero3"), Recorder())
    assert e.value.message == ("invalid train params: params.distributed: got \"zero3\", expected one of \"ddp\", "
                               "\"fsdp\"")


def test_fsdp_with_one_process_warns_and_trains_unsharded(data, tmp_path):
    rec = Recorder()
    run_training(train_params(data, str(tmp_path / "a"), method="full", distributed="fsdp", max_steps=1,
                              optimizer={"lr": 1e-3}), rec)
    assert [x["message"] for x in rec.events if x.get("level") == "warning"] == [
        "distributed: fsdp ignored: one process (nothing to shard across); set processes to the number of GPUs"]


def test_selective_checkpointing_trains_exactly_like_none(data, tmp_path):
    """Recomputing the first layer's forward in backward changes memory, not results."""
    runs = {}
    for name, gc in (("none", False), ("first", 1), ("all", True)):
        rec = Recorder()
        run_training(train_params(data, str(tmp_path / name), method="full", max_steps=3, gradient_checkpointing=gc,
                                  optimizer={"lr": 1e-3}, eval={"every_steps": 3}), rec)
        runs[name] = rec.losses()
    assert runs["first"] == pytest.approx(runs["none"], rel=1e-6)
    assert runs["all"] == pytest.approx(runs["none"], rel=1e-6)


@pytest.mark.skipif(tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 6), reason="torch has FSDP2")
def test_fsdp_on_a_torch_without_fsdp2_is_a_clear_error():
    with pytest.raises(WorkerError) as e:
        Parallel(rank=0, world_size=2, strategy="fsdp").wrap(torch.nn.Linear(1, 1), torch.device("cpu"))
    assert (e.value.code, e.value.message) == (
        "WORKER_NO_FSDP", f"distributed: fsdp needs torch >= 2.6 with FSDP2; this is torch {torch.__version__}")
