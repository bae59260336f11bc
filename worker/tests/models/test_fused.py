import pytest
import torch

from model_helper import write_tiny_model
from tunekit_worker.models import fused
from tunekit_worker.models.attention import Attention
from tunekit_worker.models.llama import MLP
from tunekit_worker.models.loading import load_model
from tunekit_worker.models.norm import RMSNorm


def test_fused_pieces_shadow_every_piece_inside_the_block_and_restore_after(tmp_path, monkeypatch):
    """Where torch.compile exists the block swaps in compiled pieces; here a recording stand-in checks the swap."""
    model = load_model(write_tiny_model(tmp_path, "qwen3", num_hidden_layers=2))
    calls = []

    def fake_compiled(attr, fn):
        def run(*args):
            calls.append(attr)
            return fn(*args)
        return run

    monkeypatch.setattr(fused, "compiled_available", lambda: True)
    monkeypatch.setattr(fused, "_compiled", fake_compiled)
    ids = torch.tensor([[5, 17, 3, 9]])
    with torch.no_grad():
        eager = model(ids)
        with fused.fused_pieces(model):  # a CPU model: nothing is swapped
            model(ids)
        assert calls == []
        monkeypatch.setattr(torch.Tensor, "is_cuda", property(lambda t: True))  # as if on a GPU
        with fused.fused_pieces(model):
            inside = model(ids)
        monkeypatch.undo()
        after = model(ids)
    # per layer: 2 norms + q/k norms (qwen3) = 4, rope on q and k = 2, swiglu = 1; plus the final norm
    assert sorted(set(calls)) == ["_norm_fn", "_rope_fn", "_swiglu_fn"]
    assert len(calls) == 2 * (4 + 2 + 1) + 1
    assert torch.equal(inside, eager) and torch.equal(after, eager)
    assert not [m for m in model.modules() if isinstance(m, (RMSNorm, Attention, MLP)) and
                {"_norm_fn", "_rope_fn", "_swiglu_fn"} & set(vars(m))]


def test_fused_pieces_is_a_no_op_where_it_is_disabled(tmp_path, monkeypatch):
    model = load_model(write_tiny_model(tmp_path, "llama", num_hidden_layers=1))
    monkeypatch.setenv("TUNEKIT_DECODE_COMPILE", "0")
    with fused.fused_pieces(model):
        assert not [m for m in model.modules() if "_norm_fn" in vars(m)]


# _compiled raises dynamo's recompile limit before its first compile (torch.compile itself is faked below).
@pytest.mark.skipif(not hasattr(torch, "_dynamo"), reason="needs torch._dynamo (torch >= 2.0): _compiled sets its "
                    "recompile limit")
def test_each_class_gets_its_own_compiled_piece(tmp_path, monkeypatch):
    """Gemma's norm and GeGLU fill the same slots as RMSNorm and SwiGLU; the compiled cache must not hand a Gemma
    model the compiled Llama pieces (it was keyed by slot name, so the first model's pieces served every model)."""
    monkeypatch.setattr(fused, "_COMPILED", {})
    monkeypatch.setattr(fused, "compiled_available", lambda: True)
    monkeypatch.setattr(torch, "compile", lambda fn, dynamic=None: fn, raising=False)  # "compiled" = the function
    llama = load_model(write_tiny_model(tmp_path / "llama", "llama", num_hidden_layers=1))
    gemma = load_model(write_tiny_model(tmp_path / "gemma", "gemma2"))
    ids = torch.tensor([[5, 17, 3, 9]])
    with torch.no_grad():
        eager = gemma.logits(gemma(ids))
        monkeypatch.setattr(torch.Tensor, "is_cuda", property(lambda t: True))  # as if on a GPU
        with fused.fused_pieces(llama):  # fills the cache with rms_norm / swiglu first
            pass
        with fused.fused_pieces(gemma):
            inside = gemma.logits(gemma(ids))
            norm = gemma.model.layers[0].input_layernorm
            mlp = gemma.model.layers[0].mlp
            assert (vars(norm)["_norm_fn"], vars(mlp)["_swiglu_fn"]) == (fused.rms_norm_plus_one, fused.geglu)
    assert torch.equal(inside, eager)
