import pytest
import torch

from model_helper import write_tiny_model
from tunekit_worker.generate import generate
from tunekit_worker.lora import LoraConfig, apply_lora
from tunekit_worker.models import decode_step
from tunekit_worker.models.decode_step import DecodeRunner, capacity_bucket, graphs_supported
from tunekit_worker.models.loading import load_model


def full_logits(model, ids):
    with torch.no_grad():
        return model.logits(model(torch.tensor([ids])))[0]  # [T,V]


def prefill(runner, model, prompts):
    L = max(len(p) for p in prompts)
    ids = torch.tensor([[0] * (L - len(p)) + p for p in prompts])
    seg = torch.tensor([[0] * (L - len(p)) + [1] * len(p) for p in prompts])
    with torch.no_grad():
        return runner.prefill(model, ids, seg, torch.tensor([len(p) for p in prompts]))


@pytest.mark.parametrize("arch,overrides", [("qwen3", {}), ("mistral", {"sliding_window": 3})])
def test_static_steps_equal_the_full_forward(tmp_path, arch, overrides):
    model = load_model(write_tiny_model(tmp_path, arch, **overrides))
    prompts, fed = [[5, 17, 3], [9]], [[60, 22, 41, 7], [33, 2, 8, 50]]
    runner = DecodeRunner(model, batch=2, capacity=9, use_graph=False)
    got = [prefill(runner, model, prompts)]  # [2,V] per step
    with torch.no_grad():
        for t in range(4):
            got.append(runner.decode(model, torch.tensor([fed[0][t], fed[1][t]])).clone())
    for row in range(2):
        seq = prompts[row] + fed[row]
        expected = full_logits(model, seq)[len(prompts[row]) - 1:]  # the prompt's last position onwards
        assert torch.allclose(torch.stack([g[row] for g in got]), expected, atol=1e-5, rtol=0)


def test_a_step_reads_nothing_back_and_keeps_its_buffers(tmp_path, monkeypatch):
    """What a CUDA graph needs, checked on CPU: no tensor read by the host, no cache tensor reallocated."""
    model = load_model(write_tiny_model(tmp_path, "qwen2"))
    runner = DecodeRunner(model, batch=2, capacity=8, use_graph=False)
    prefill(runner, model, [[5, 17, 3], [9]])
    buffers = [t.data_ptr() for t in runner.cache.keys + runner.cache.values + [runner.cache.segments]]

    def host_read(*args, **kwargs):
        raise AssertionError("a decode step read a tensor on the host (a sync; not capturable)")

    with torch.no_grad():
        tokens = torch.tensor([4, 6])
        for name in ("item", "tolist", "__bool__", "__int__", "__float__", "__index__", "numpy"):
            monkeypatch.setattr(torch.Tensor, name, host_read)
        for _ in range(3):
            logits = runner.decode(model, tokens)
        monkeypatch.undo()
    assert logits.shape == (2, 64) and logits.dtype == torch.float32
    assert [t.data_ptr() for t in runner.cache.keys + runner.cache.values + [runner.cache.segments]] == buffers
    assert runner.cache.length.tolist() == [6] and runner.positions.tolist() == [[6], [4]]


def test_capacity_buckets_round_up_by_at_most_a_quarter():
    assert [capacity_bucket(n) for n in (1, 64, 65, 257, 300, 384, 385, 1000, 4097)] == [
        64, 64, 80, 320, 320, 384, 448, 1024, 5120]


def test_runners_are_kept_reused_and_dropped(tmp_path, monkeypatch, capsys):
    model = load_model(write_tiny_model(tmp_path, "llama"))
    assert not graphs_supported(model)  # CPU: a fresh eager runner per call, nothing kept
    eager = [generate(model, p, 6) for p in ([[1, 2, 3], [4]], [[5]], [[7, 8]])]
    assert not hasattr(model, "_decode_runners")
    # Pretend graphs work: on CPU the capture fails, the runner decodes eagerly and stays cached for reuse.
    monkeypatch.setattr(decode_step, "graphs_supported", lambda m: True)
    assert generate(model, [[1, 2, 3], [4]], 6) == eager[0]
    assert "CUDA graph capture failed, decoding eagerly" in capsys.readouterr().err
    runners = model._decode_runners
    assert [(r.batch, r.capacity, r.use_graph) for r in runners.values()] == [(2, 64, False)]
    first = next(iter(runners.values()))
    assert generate(model, [[9, 9], [1, 2, 3, 4, 5]], 4) != eager[0]  # same buffers, other prompts
    assert generate(model, [[1, 2, 3], [4]], 6) == eager[0]  # stale entries of the last call stay masked
    assert list(runners.values()) == [first]
    assert generate(model, [[5]], 6) == eager[1] and generate(model, [[7, 8]], 6) == eager[2]
    assert [(r.batch, r.capacity) for r in runners.values()] == [(2, 64), (1, 64)]  # batch 1 shares one runner
    generate(model, [[1], [2], [3]], 2)
    assert [(r.batch, r.capacity) for r in runners.values()] == [(1, 64), (3, 64)]  # at most 2: LRU evicted
    apply_lora(model, LoraConfig(r=2, alpha=4, target_modules=["q_proj"]))  # new parameters: graphs are stale
    generate(model, [[5]], 6)
    assert len(runners) == 1
    decode_step.release_runners(model)
    assert not hasattr(model, "_decode_runners")
