import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tunekit_worker.lora import LoraConfig, apply_lora, lora_modules, merge_lora
from tunekit_worker.quant.nf4 import (NF4_CODE, NF4Linear, dequantize_nf4, pack_nibbles, quantize_model_projections,
                                      quantize_nf4, unpack_nibbles)


def normal(shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_pack_unpack_round_trip_is_exact():
    idx = torch.tensor([0, 15, 7, 8, 1, 14, 3, 12], dtype=torch.uint8)
    packed = pack_nibbles(idx)
    assert packed.tolist() == [0x0F, 0x78, 0x1E, 0x3C]
    assert torch.equal(unpack_nibbles(packed), idx)
    every = torch.arange(256, dtype=torch.int32).to(torch.uint8)
    assert torch.equal(pack_nibbles(unpack_nibbles(every)), every)


def test_code_values_dequantize_exactly():
    # A block holding exactly the code values times 2: absmax 2, every value is on the grid.
    w = (torch.tensor(NF4_CODE * 4) * 2).reshape(2, 32)
    q = quantize_nf4(w)
    assert q.absmax.tolist() == [2.0]
    assert torch.equal(dequantize_nf4(q, torch.float32), w)


def test_nf4_error_on_normal_weights_is_within_known_bounds():
    w = normal((128, 256)) * 0.02
    q = quantize_nf4(w)
    assert q.packed.dtype == torch.uint8 and q.packed.numel() == 128 * 256 // 2 and q.absmax.numel() == 512
    err = (dequantize_nf4(q, torch.float32) - w).abs()
    absmax = w.reshape(-1, 64).abs().amax(dim=1, keepdim=True)
    rel = (err.reshape(-1, 64) / absmax)
    # NF4 over normal data: the largest gap between codes is -0.696 - (-1) = 0.304, so no error exceeds half of it;
    # the mean error is ~0.03 of absmax (QLoRA's information-theoretic optimum for 4 bits is about there).
    assert rel.max() <= 0.1520
    assert 0.02 < rel.mean() < 0.04
    assert torch.equal(dequantize_nf4(q, torch.float32).reshape(-1, 64).abs().amax(dim=1), absmax[:, 0])


def test_double_quant_scales_stay_close_and_shrink_storage():
    w = normal((64, 512), seed=3)
    single, double = quantize_nf4(w), quantize_nf4(w, double_quant=True)
    assert double.absmax is None and double.absmax_q.dtype == torch.uint8 and double.absmax_scale.numel() == 2
    from tunekit_worker.quant.nf4 import block_absmax
    scale_err = (block_absmax(double) - single.absmax).abs().max()
    assert scale_err <= (single.absmax - single.absmax.mean()).abs().max() / 254 + 1e-6  # half an 8-bit step
    extra = (dequantize_nf4(double, torch.float32) - dequantize_nf4(single, torch.float32)).abs().max()
    assert extra <= scale_err * 1.0001
    assert double.absmax_q.numel() * 1 + 8 + 4 < single.absmax.numel() * 4


def test_weights_of_any_size_are_padded_to_whole_blocks():
    w = normal((3, 7), seed=4)  # 21 values: one padded block
    q = quantize_nf4(w)
    assert q.packed.numel() == 32 and q.absmax.numel() == 1
    out = dequantize_nf4(q, torch.float32)
    assert out.shape == (3, 7) and (out - w).abs().max() <= 0.1520 * w.abs().max()


def test_nf4_linear_forward_and_backward_equal_reference_dequant_linear():
    lin = nn.Linear(128, 48, bias=True)
    with torch.no_grad():
        lin.weight.copy_(normal((48, 128), seed=5) * 0.05)
        lin.bias.copy_(normal((48,), seed=6))
    q = NF4Linear.from_linear(lin, double_quant=True)
    ref_w = q.dense_weight(torch.float32)
    x = normal((2, 3, 128), seed=7).requires_grad_(True)
    x_ref = x.detach().clone().requires_grad_(True)
    y = q(x)
    y_ref = F.linear(x_ref, ref_w, lin.bias.detach())
    assert torch.allclose(y, y_ref, atol=1e-6)
    g = normal((2, 3, 48), seed=8)
    y.backward(g)
    y_ref.backward(g)
    assert torch.allclose(x.grad, x_ref.grad, atol=1e-6)
    assert [n for n, p in q.named_parameters() if p.requires_grad] == []


def test_lora_on_nf4_base_matches_reference_grads_and_merges_to_the_dequantized_weight():
    model = nn.Module()
    model.layers = nn.ModuleList([nn.Module()])
    model.layers[0].q_proj = nn.Linear(64, 32, bias=False)
    with torch.no_grad():
        model.layers[0].q_proj.weight.copy_(normal((32, 64), seed=9) * 0.05)
    assert quantize_model_projections(model, ["q_proj"]) == 1
    base = model.layers[0].q_proj
    apply_lora(model, LoraConfig(r=4, alpha=8, target_modules=["q_proj"]), generator=torch.Generator().manual_seed(0))
    m = lora_modules(model)["layers.0.q_proj"]
    assert m.base_layer is base
    with torch.no_grad():
        m.lora_B.copy_(normal((32, 4), seed=10) * 0.1)
    x = normal((5, 64), seed=11).requires_grad_(True)
    m(x).pow(2).sum().backward()
    w = base.dense_weight(torch.float32)
    a = m.lora_A.detach().clone().requires_grad_(True)
    b = m.lora_B.detach().clone().requires_grad_(True)
    x2 = x.detach().clone().requires_grad_(True)
    (F.linear(x2, w) + F.linear(F.linear(x2, a), b) * 2.0).pow(2).sum().backward()
    for got, want in ((x.grad, x2.grad), (m.lora_A.grad, a.grad), (m.lora_B.grad, b.grad)):
        assert torch.allclose(got, want, rtol=1e-5, atol=1e-5)
    with torch.no_grad():
        before = m(x)
    merge_lora(model)
    merged = model.layers[0].q_proj
    assert isinstance(merged, nn.Linear) and merged.weight.dtype == torch.float32  # the model's dtype
    assert torch.allclose(merged.weight.float(), w + (b @ a).detach() * 2.0, atol=4e-3)
    assert torch.allclose(F.linear(x.detach(), merged.weight.float()), before, atol=0.05)


def test_no_matching_projection_is_a_clear_error():
    from tunekit_worker.errors import WorkerError
    model = nn.Module()
    model.layers = nn.ModuleList([nn.Linear(4, 4)])
    with pytest.raises(WorkerError) as e:
        quantize_model_projections(model, ["q_proj"])
    assert e.value.code == "WORKER_INVALID_CONFIG"
