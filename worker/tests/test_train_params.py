from dataclasses import fields

import pytest

from tunekit_worker.contract import method_schemas
from tunekit_worker.errors import WorkerError
from tunekit_worker.train_params import (SECTIONS, CheckpointParams, DpoParams, OrpoParams, EarlyStoppingParams, EvalParams, LoraParams,
                                         OptimizerParams, ScheduleParams, TrainParams, parse_train_params)


def test_the_dataclasses_have_exactly_the_contract_s_params():
    schema = method_schemas()["train"]["properties"]
    assert [f.name for f in fields(TrainParams)] == list(schema)
    for name, cls in SECTIONS.items():
        section = schema[name]
        props = (section["anyOf"][0] if "anyOf" in section else section)["properties"]
        assert (name, [f.name for f in fields(cls)]) == (name, list(props))


def test_every_default_comes_from_the_contract():
    assert parse_train_params({"model_dir": "m", "data_dir": "d", "output_dir": "o"}) == TrainParams(
        model_dir="m", data_dir="d", output_dir="o", resume_from=None, init_adapter=None, method="lora",
        quantize="none", double_quant=False, objective="sft", dpo=DpoParams(beta=0.1, loss="sigmoid", reference_free=False),
        orpo=OrpoParams(beta=0.1),
        lora=LoraParams(r=8, alpha=16, dropout=0, target_modules=["q_proj", "v_proj"], use_rslora=False),
        optimizer=OptimizerParams(lr=2e-4, weight_decay=0, betas=(0.9, 0.999), eps=1e-8),
        schedule=ScheduleParams(type="cosine", warmup_steps=0, min_lr_ratio=0), batch_size=8, grad_accum=1,
        epochs=1, max_steps=None, max_grad_norm=1, gradient_checkpointing=False, distributed="ddp", compile=None,
        seed=42, eval=EvalParams(every_steps=50, max_batches=None), early_stopping=None,
        checkpoint=CheckpointParams(every_steps=50, keep_last=2), device="auto", dtype="auto", log_every=1)


def test_early_stopping_fills_its_own_defaults_and_null_sections_stay_null():
    p = parse_train_params({"model_dir": "m", "data_dir": "d", "output_dir": "o", "early_stopping": {"patience": 5},
                            "eval": {"every_steps": None}, "lora": {"target_modules": "all-linear"}})
    assert (p.early_stopping, p.eval, p.lora.target_modules) == (
        EarlyStoppingParams(patience=5, min_delta=0), EvalParams(every_steps=None, max_batches=None), "all-linear")


def test_init_adapter_with_full_fine_tuning_is_refused():
    with pytest.raises(WorkerError) as e:
        parse_train_params({"model_dir": "m", "data_dir": "d", "output_dir": "o", "method": "full",
                            "init_adapter": "a"})
    assert e.value.message == (
        "invalid train params: params.init_adapter: a PEFT adapter starts a LoRA run, but method is \"full\" (use "
        "method lora, or merge the adapter into a model folder and fine-tune that)")


def test_params_must_be_an_object():
    with pytest.raises(WorkerError) as e:
        parse_train_params(["model_dir"])
    assert (e.value.code, e.value.message) == ("WORKER_BAD_PARAMS", "train params must be an object, got list")


def test_fsdp_with_lora_is_reported_with_the_schema_s_problems():
    with pytest.raises(WorkerError) as e:
        parse_train_params({"model_dir": "m", "data_dir": "d", "distributed": "fsdp"})
    assert e.value.message == (
        "invalid train params: params.output_dir: missing, expected a non-empty string: Where checkpoints/, best/ "
        "and the exported adapter/ or model/ go; params.distributed: fsdp is for full fine-tuning, but method is "
        "\"lora\" (use ddp for LoRA)")
    assert e.value.fix.startswith("correct these params (docs/worker-protocol.md lists every train param")


def test_params_the_old_hand_checks_let_through_are_refused():
    """Regression: a typo inside early_stopping, a negative eps, a non-boolean use_rslora and "cuda:x" used to
    pass (early_stopping was merged over its defaults unchecked; eps, use_rslora were never checked; any
    "cuda:…" string was a device)."""
    with pytest.raises(WorkerError) as e:
        parse_train_params({"model_dir": "m", "data_dir": "d", "output_dir": "o", "early_stopping": {"patiense": 5},
                            "optimizer": {"eps": -1e-8}, "lora": {"use_rslora": "yes"}, "device": "cuda:x"})
    assert e.value.message == (
        'invalid train params: params.device: got "cuda:x", expected a string matching ^(auto|cpu|cuda|cuda:\\d+)$; '
        'params.early_stopping.patiense: unknown param (got 5), did you mean "patience"?; '
        'params.lora.use_rslora: got "yes", expected true or false; '
        "params.optimizer.eps: got -1e-08, expected a number > 0")
