import os

import pytest
import torch

from train_fixtures import MODEL_DIR, Recorder, train_params, write_pattern_dataset
from tunekit_worker.errors import WorkerError
from tunekit_worker.lora import LORA_TARGETS, load_peft_adapter, lora_modules
from tunekit_worker.models.loading import load_model
from tunekit_worker.quant.nf4 import NF4Linear, quantize_nf4, dequantize_nf4
from tunekit_worker.safetensors_io import load_file
from tunekit_worker.train import run_training

ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_pattern_dataset(str(tmp_path_factory.mktemp("data")))


def test_load_model_quantizes_every_projection_as_it_reads_it():
    dense = load_model(MODEL_DIR)
    q = load_model(MODEL_DIR, quantize="nf4", quantize_targets=LORA_TARGETS, double_quant=True)
    quantized = sorted(n for n, m in q.named_modules() if isinstance(m, NF4Linear))
    assert quantized == sorted(f"model.layers.{i}.{part}" for i in range(dense.config.num_hidden_layers)
                               for part in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                            "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"))
    w = dense.model.layers[1].mlp.down_proj.weight
    want = dequantize_nf4(quantize_nf4(w, double_quant=True), torch.float32)
    assert torch.equal(q.model.layers[1].mlp.down_proj.dense_weight(torch.float32), want)
    assert torch.equal(q.model.embed_tokens.weight, dense.model.embed_tokens.weight)  # embeddings stay dense
    # The quantized model computes exactly the dense model whose projections hold the dequantized weights.
    with torch.no_grad():
        for name, m in q.named_modules():
            if isinstance(m, NF4Linear):
                dense.get_submodule(name).weight.copy_(m.dense_weight(torch.float32))
    ids = torch.tensor([[1, 300, 301, 302, 303]])
    with torch.no_grad():
        assert torch.allclose(q.logits(q(ids)), dense.logits(dense(ids)), atol=1e-5)


def test_qlora_run_trains_and_saves_the_same_adapter_format(data, tmp_path):
    lora = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ALL}
    plain = run_training(train_params(data, str(tmp_path / "lora"), lora=lora, max_steps=8), Recorder())
    rec = Recorder()
    result = run_training(train_params(data, str(tmp_path / "qlora"), lora=lora, max_steps=8, quantize="nf4"), rec)
    losses = rec.losses()
    assert losses[8] < losses[1] - 1.0, losses
    shapes = lambda d: {k: list(v.shape) for k, v in load_file(os.path.join(d, "adapter_model.safetensors")).items()}  # noqa: E731
    assert shapes(result["adapter_dir"]) == shapes(plain["adapter_dir"])
    with open(os.path.join(result["adapter_dir"], "adapter_config.json")) as f, \
            open(os.path.join(plain["adapter_dir"], "adapter_config.json")) as g:
        assert f.read() == g.read()
    # The saved adapter loads on the 16-bit base like any other (and on a quantized one).
    model = load_model(MODEL_DIR)
    load_peft_adapter(model, result["adapter_dir"])
    assert len(lora_modules(model)) == 7 * model.config.num_hidden_layers
    assert any("nf4" in e.get("message", "") for e in rec.of("log"))


def test_a_qlora_adapter_merges_into_the_dequantized_base(data, tmp_path):
    from tunekit_worker.lora import merge_to_hf_folder
    lora = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]}
    result = run_training(train_params(data, str(tmp_path / "qlora"), lora=lora, max_steps=4, quantize="nf4",
                                       double_quant=True), Recorder())
    with open(os.path.join(result["adapter_dir"], "tunekit_quantization.json")) as f:
        assert f.read() == '{\n  "block_size": 64,\n  "double_quant": true,\n  "quantize": "nf4"\n}'
    out = merge_to_hf_folder(MODEL_DIR, result["adapter_dir"], str(tmp_path / "merged"))
    merged, base = load_model(out), load_model(MODEL_DIR)
    assert sorted(merged.state_dict()) == sorted(base.state_dict())
    # Untargeted projections: the dequantized NF4 weight; targeted ones: that plus the adapter's update.
    w = base.model.layers[0].mlp.up_proj.weight
    assert torch.equal(merged.model.layers[0].mlp.up_proj.weight,
                       dequantize_nf4(quantize_nf4(w, double_quant=True), torch.float32))
    q = load_model(MODEL_DIR, quantize="nf4", quantize_targets=LORA_TARGETS, double_quant=True)
    load_peft_adapter(q, result["adapter_dir"])
    ids = torch.tensor([[1, 300, 301, 302, 303]])
    with torch.no_grad():
        assert torch.allclose(merged.logits(merged(ids)), q.logits(q(ids)), atol=1e-4)


def test_quantize_with_full_fine_tuning_is_a_clear_error(data, tmp_path):
    with pytest.raises(WorkerError) as e:
        run_training(train_params(data, str(tmp_path), method="full", quantize="nf4"), Recorder())
    assert e.value.code == "WORKER_BAD_PARAMS"
    assert e.value.message == ("invalid train params: params.quantize: nf4 (QLoRA) trains LoRA adapters on a frozen "
                               "4-bit base, but method is \"full\" (use method lora, or quantize none for full "
                               "fine-tuning)")
