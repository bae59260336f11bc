import pytest
import torch

from shard_helper import write_shards
from train_fixtures import MODEL_DIR, Recorder, train_params, write_pattern_dataset
from tunekit_worker.loss import LossModule, masked_loss_sum
from tunekit_worker.models.attention import positions_from_segments
from tunekit_worker.models.loading import load_model
from tunekit_worker.train import run_training


def _batch():
    tokens = torch.tensor([[1, 300, 301, 302, 1, 310, 311, 0],
                           [1, 320, 321, 322, 323, 324, 325, 326]])
    mask = torch.tensor([[0, 1, 1, 0, 0, 1, 1, 0],
                         [0, 1, 1, 1, 1, 1, 1, 1]])
    segments = torch.tensor([[1, 1, 1, 1, 2, 2, 2, 0],
                             [1, 1, 1, 1, 1, 1, 1, 1]])
    return tokens, mask, segments


def _loss(module, tokens, mask, segments, chunk_tokens=0):
    total, n = module(tokens, mask, segments, positions_from_segments(segments), chunk_tokens)
    return total / n, n


def test_untrained_target_changes_nothing():
    module = LossModule(load_model(MODEL_DIR))
    tokens, mask, segments = _batch()
    base, n = _loss(module, tokens, mask, segments)
    assert n == 11
    changed = tokens.clone()
    changed[0, 3] = 400  # mask 0, last token of segment 1: no trained target sees it
    assert _loss(module, changed, mask, segments)[0].item() == base.item()
    changed[0, 2] = 400  # a trained target: the loss must move
    assert _loss(module, changed, mask, segments)[0].item() != base.item()


def test_chunked_loss_equals_unchunked_with_grads():
    model = load_model(MODEL_DIR)
    model.train()
    module = LossModule(model)
    tokens, mask, segments = _batch()
    grads = []
    values = []
    for chunk in (0, 3):
        model.zero_grad()
        loss, _ = _loss(module, tokens, mask, segments, chunk)
        loss.backward()
        values.append(loss.item())
        grads.append(model.model.embed_tokens.weight.grad.clone())
    assert values[0] == pytest.approx(values[1], rel=1e-6)  # only the summation order differs
    assert torch.allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


def test_no_trained_tokens_gives_zero_loss():
    model = load_model(MODEL_DIR)
    hidden = torch.zeros(1, 4, model.config.hidden_size)
    total, n = masked_loss_sum(model, hidden, torch.ones(1, 4, dtype=torch.long), torch.zeros(1, 4, dtype=torch.long))
    assert (float(total), n) == (0.0, 0)


def test_accumulation_equals_one_big_batch(tmp_path):
    data = write_pattern_dataset(str(tmp_path / "data"))
    runs = {}
    for batch_size, accum in ((8, 1), (4, 2), (2, 4)):
        rec = Recorder()
        run_training(train_params(data, str(tmp_path / f"out-{batch_size}"), batch_size=batch_size,
                                  grad_accum=accum, max_steps=2, eval={"every_steps": None}), rec)
        runs[(batch_size, accum)] = ([e["loss"] for e in rec.of("progress")],
                                     [e["value"] for e in rec.of("metric", "train/grad_norm")])
    (loss_a, gn_a), (loss_b, gn_b), (loss_c, gn_c) = runs.values()
    # step 1: same gradients to float32 rounding; step 2 (after an update) to float32 relative precision
    for other_loss, other_gn in ((loss_b, gn_b), (loss_c, gn_c)):
        assert other_loss[0] == pytest.approx(loss_a[0], abs=1e-6)
        assert other_gn[0] == pytest.approx(gn_a[0], abs=1e-6)
        assert other_loss[1] == pytest.approx(loss_a[1], rel=1e-6)
        assert other_gn[1] == pytest.approx(gn_a[1], rel=1e-6)
    assert gn_a[0] > 0


def test_token_outside_vocab_is_a_clear_error(tmp_path):
    from tunekit_worker.errors import WorkerError
    row = ([1, 600, 3, 0], [0, 1, 1, 0], [1, 1, 1, 0])
    data = write_shards(str(tmp_path / "d"), {"train": [row]}, seq_len=4)
    with pytest.raises(WorkerError) as e:
        run_training(train_params(data, str(tmp_path / "o"), max_steps=1), Recorder())
    assert e.value.code == "WORKER_BAD_SHARDS"
    assert "token id 600" in e.value.message


def test_fused_linear_cross_entropy_matches_autograd():
    from tunekit_worker.loss import _FusedLinearCE
    g = torch.Generator().manual_seed(3)
    h = torch.randn(37, 16, generator=g, requires_grad=True)
    w = torch.randn(50, 16, generator=g, requires_grad=True)
    t = torch.randint(0, 50, (37,), generator=g)
    ref = torch.nn.functional.cross_entropy(h @ w.t(), t, reduction="sum")
    (ref * 1.7).backward()
    ref_h, ref_w = h.grad.clone(), w.grad.clone()
    h.grad = w.grad = None
    out = _FusedLinearCE.apply(h, w, t, 5)  # 8 chunks, the last one short
    (out * 1.7).backward()
    assert out.item() == pytest.approx(ref.item(), rel=1e-6)
    assert torch.allclose(h.grad, ref_h, rtol=1e-5, atol=1e-6) and torch.allclose(w.grad, ref_w, rtol=1e-5, atol=1e-6)
