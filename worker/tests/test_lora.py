import json
import math
import os

import pytest
import torch

from model_helper import STORIES, STORIES_MISSING, write_tiny_model
from tunekit_worker.errors import WorkerError
from tunekit_worker.lora import (LoraConfig, apply_lora, load_peft_adapter, lora_modules, lora_state_dict, merge_lora,
                                 merge_to_hf_folder, save_peft_adapter)
from tunekit_worker.models.loading import load_model
from tunekit_worker.safetensors_io import load_file, read_metadata

ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
IDS = torch.tensor([[5, 17, 3, 60, 22, 9, 41]])


def logits(model):
    with torch.no_grad():
        return model.logits(model(IDS))


def randomize_b(model, seed=1, std=0.05):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in lora_modules(model).values():
            m.lora_B.copy_(torch.randn(m.lora_B.shape, generator=g) * std)


def test_fresh_adapter_changes_nothing_and_freezes_the_base(tmp_path):
    model = load_model(write_tiny_model(tmp_path, "qwen2"))  # qwen2: the wrapped q/k/v keep their biases
    before = logits(model)
    n = apply_lora(model, LoraConfig(r=4, alpha=8, target_modules=ALL), generator=torch.Generator().manual_seed(0))
    # per layer: q 4*(32+32), k 4*(32+16), v 4*(32+16), o 4*(32+32), gate/up 4*(32+48) each, down 4*(48+32)
    assert n == 2 * (256 + 192 + 192 + 256 + 320 + 320 + 320)
    trainable = sorted(name for name, p in model.named_parameters() if p.requires_grad)
    assert len(trainable) == 2 * 7 * 2 and all(name.endswith(("lora_A", "lora_B")) for name in trainable)
    assert torch.equal(logits(model), before)  # B = 0
    a = model.model.layers[0].self_attn.q_proj.lora_A
    assert a.abs().max() <= 1 / math.sqrt(32) and a.std() > 0  # PEFT's kaiming-uniform(a=sqrt(5)) bound


def test_peft_key_names_shapes_and_adapter_config(tmp_path):
    model = load_model(write_tiny_model(tmp_path / "m", "llama", num_hidden_layers=1))
    apply_lora(model, LoraConfig(r=2, alpha=4, dropout=0.05, target_modules=["v_proj", "q_proj", "down_proj"]))
    out = save_peft_adapter(model, str(tmp_path / "adapter"), "org/tiny-llama")
    tensors = load_file(os.path.join(out, "adapter_model.safetensors"))
    p = "base_model.model.model.layers.0."
    assert {k: list(v.shape) for k, v in tensors.items()} == {
        p + "self_attn.q_proj.lora_A.weight": [2, 32], p + "self_attn.q_proj.lora_B.weight": [32, 2],
        p + "self_attn.v_proj.lora_A.weight": [2, 32], p + "self_attn.v_proj.lora_B.weight": [16, 2],
        p + "mlp.down_proj.lora_A.weight": [2, 48], p + "mlp.down_proj.lora_B.weight": [32, 2],
    }
    assert read_metadata(os.path.join(out, "adapter_model.safetensors")) == {"format": "pt"}
    assert json.loads(open(os.path.join(out, "adapter_config.json")).read()) == {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": "org/tiny-llama", "bias": "none",
        "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True, "layer_replication": None,
        "layers_pattern": None, "layers_to_transform": None, "loftq_config": {}, "lora_alpha": 4.0,
        "lora_dropout": 0.05, "megatron_config": None, "megatron_core": "megatron.core", "modules_to_save": None,
        "peft_type": "LORA", "r": 2, "rank_pattern": {}, "revision": None,
        "target_modules": ["down_proj", "q_proj", "v_proj"], "task_type": "CAUSAL_LM", "use_dora": False,
        "use_rslora": False}


def test_save_load_round_trip_and_merge(tmp_path):
    path = write_tiny_model(tmp_path / "m", "qwen3")
    model = load_model(path)
    apply_lora(model, LoraConfig(r=4, alpha=16, target_modules=ALL))
    randomize_b(model)
    adapted = logits(model)
    assert (adapted - logits(load_model(path))).abs().max() > 1e-2  # the adapter really changes the output
    save_peft_adapter(model, str(tmp_path / "adapter"), path)

    reloaded = load_model(path)
    cfg = load_peft_adapter(reloaded, str(tmp_path / "adapter"))
    assert cfg == LoraConfig(r=4, alpha=16.0, dropout=0.0, target_modules=sorted(ALL), use_rslora=False)
    assert torch.equal(logits(reloaded), adapted)
    saved, again = lora_state_dict(model), lora_state_dict(reloaded)
    assert saved.keys() == again.keys() and all(torch.equal(saved[k], again[k]) for k in saved)

    merge_lora(reloaded)
    assert not lora_modules(reloaded) and set(reloaded.state_dict()) == set(load_model(path).state_dict())
    assert torch.allclose(logits(reloaded), adapted, atol=1e-5, rtol=0)


def test_rslora_scales_by_alpha_over_sqrt_r(tmp_path):
    assert LoraConfig(r=16, alpha=8, use_rslora=True).scaling == 2.0
    assert LoraConfig(r=16, alpha=8).scaling == 0.5
    path = write_tiny_model(tmp_path, "llama")
    base = logits(load_model(path))
    deltas = []
    for rs in (False, True):
        model = load_model(path)
        apply_lora(model, LoraConfig(r=4, alpha=8, target_modules=["o_proj"], use_rslora=rs),
                   generator=torch.Generator().manual_seed(0))
        randomize_b(model, std=1e-4)  # tiny update: the logit change is linear in the scaling
        assert model.model.layers[0].self_attn.o_proj.scaling == (4.0 if rs else 2.0)
        deltas.append(logits(model) - base)
    # Tolerance relative to the largest change: near-zero elements are float32 rounding noise (~1e-6), whose size
    # differs between torch builds, so an element-wise rtol would test the rounding, not the scaling.
    scale = float(deltas[0].abs().max())
    assert scale > 1e-4
    assert torch.allclose(deltas[1], 2 * deltas[0], rtol=0, atol=1e-2 * scale)


@pytest.mark.skipif(not os.path.isdir(STORIES), reason=STORIES_MISSING)
def test_merge_to_hf_folder_writes_a_loadable_model(tmp_path):
    model = load_model(STORIES)
    apply_lora(model, LoraConfig(r=4, alpha=8, target_modules=["q_proj", "v_proj", "up_proj"]))
    randomize_b(model)
    ids = torch.tensor([[1, 403, 407, 261, 378]])
    with torch.no_grad():
        adapted = model.logits(model(ids))
    save_peft_adapter(model, str(tmp_path / "adapter"), STORIES)
    out = merge_to_hf_folder(STORIES, str(tmp_path / "adapter"), str(tmp_path / "merged"))
    assert sorted(os.listdir(out)) == ["LICENSE", "config.json", "generation_config.json", "model.safetensors",
                                       "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]
    assert "lm_head.weight" not in load_file(os.path.join(out, "model.safetensors"))  # still tied
    merged = load_model(out)
    with torch.no_grad():
        assert torch.allclose(merged.logits(merged(ids)), adapted, atol=1e-4, rtol=0)
    with pytest.raises(WorkerError) as e:  # never overwrites an existing model
        merge_to_hf_folder(STORIES, str(tmp_path / "adapter"), out)
    assert e.value.code == "WORKER_OUTPUT_EXISTS"


def test_adapter_for_another_model_is_a_clear_error(tmp_path):
    small = load_model(write_tiny_model(tmp_path / "a", "llama", num_hidden_layers=1))
    apply_lora(small, LoraConfig(r=2, alpha=2, target_modules=["q_proj"]))
    save_peft_adapter(small, str(tmp_path / "adapter"), "a")
    with pytest.raises(WorkerError) as e:
        load_peft_adapter(load_model(write_tiny_model(tmp_path / "b", "llama")), str(tmp_path / "adapter"))
    assert e.value.code == "WORKER_ADAPTER_MISMATCH" and "layers.1.self_attn.q_proj.lora_A.weight" in e.value.message


def test_invalid_config_and_missing_adapter_are_clear_errors(tmp_path):
    model = load_model(write_tiny_model(tmp_path, "llama"))
    with pytest.raises(WorkerError) as e:
        apply_lora(model, LoraConfig(r=0, target_modules=["qkv"]))
    assert e.value.code == "WORKER_INVALID_CONFIG"
    assert "r must be a positive integer, got 0" in e.value.message and "'qkv'" in e.value.message
    with pytest.raises(WorkerError) as e:
        load_peft_adapter(model, str(tmp_path / "nope"))
    assert e.value.code == "WORKER_ADAPTER_NOT_FOUND"
    (tmp_path / "dora").mkdir()
    (tmp_path / "dora" / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "use_dora": True}))
    with pytest.raises(WorkerError) as e:
        load_peft_adapter(model, str(tmp_path / "dora"))
    assert e.value.code == "WORKER_ADAPTER_UNSUPPORTED" and "use_dora" in e.value.message
