import pytest
import torch

from model_helper import write_tiny_model
from tunekit_worker.errors import WorkerError
from tunekit_worker.generate import generate
from tunekit_worker.lora import LoraConfig, apply_lora, load_peft_adapter, save_peft_adapter
from tunekit_worker.models.loading import load_model
from tunekit_worker.multi_lora import install_adapters
from tunekit_worker.serve_engine import ServeEngine, ServeRequest, _held_back


def collect(rid, sink, **kw):
    """A request whose streamed tokens and done result land in sink[rid]."""
    sink[rid] = {"streamed": [], "done": None}
    return ServeRequest(rid=rid, on_tokens=sink[rid]["streamed"].extend,
                        on_done=lambda res: sink[rid].__setitem__("done", res), **kw)


def run_all(engine, arrivals, limit=200):
    """arrivals: {step: [requests]} submitted just before that step."""
    for step in range(limit):
        for req in arrivals.get(step, []):
            engine.submit(req)
        if step > max(arrivals) and not engine.busy():
            return step
        engine.step()
    raise AssertionError("engine did not finish")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_model(write_tiny_model(tmp_path_factory.mktemp("m"), "qwen2", sliding_window=6), dtype=torch.float64)


def alone(model, prompt, **kw):
    out = generate(model, [prompt], **kw)[0]
    return {"ids": out.ids, "finish_reason": out.finish_reason, "stop_ids": out.stop_ids,
            "prompt_tokens": len(prompt), "completion_tokens": len(out.ids)}


def test_requests_arriving_at_different_steps_equal_each_alone(model):
    engine = ServeEngine(model, max_batch=3, max_len=32)
    sink = {}
    specs = {
        "a": dict(prompt=[1, 2, 3], max_new_tokens=9),
        "b": dict(prompt=[5], max_new_tokens=4, temperature=1.3, top_p=0.9, seed=11),
        "c": dict(prompt=[7, 8, 9, 10, 11, 12, 13], max_new_tokens=12),
        "d": dict(prompt=[4, 4], max_new_tokens=6, temperature=0.8, seed=3),
        "e": dict(prompt=[9, 1], max_new_tokens=5, stop_token_ids=[]),
    }
    # Five requests for three slots: d and e wait for a slot to free up, then join the running batch.
    arrivals = {0: [collect("a", sink, **specs["a"])], 2: [collect("b", sink, **specs["b"]),
                collect("c", sink, **specs["c"])], 3: [collect("d", sink, **specs["d"])],
                5: [collect("e", sink, **specs["e"])]}
    run_all(engine, arrivals)
    for rid, spec in specs.items():
        prompt = spec.pop("prompt")
        spec.pop("stop_token_ids", None)
        expected = alone(model, prompt, **spec)
        assert sink[rid] == {"streamed": expected["ids"], "done": expected}, rid
    assert engine.rows == [None, None, None]
    assert engine.cache.active.sum().item() == 0


def test_tokens_stream_as_they_are_produced_and_stop_sequences_are_held_back(model):
    prompt = [11, 12, 13]
    free_run = alone(model, prompt, max_new_tokens=8)["ids"]
    stop = free_run[3:5]
    assert free_run[:3] + free_run[5:] == [t for t in free_run if t not in stop]  # stop occurs only there
    engine = ServeEngine(model, max_batch=2, max_len=32)
    sink = {}
    engine.submit(collect("s", sink, prompt=prompt, max_new_tokens=8, stop_sequences=[[60, 61, 62], stop]))
    seen = []
    while engine.busy():
        engine.step()
        seen.append(list(sink["s"]["streamed"]))
    # Step 1 admits (prefill + first token) and launches a decode step; each later step launches the next one
    # and reads the previous one's token (one step of lag), except the stop sequence's first token, held until
    # the next one shows it was the stop sequence (never sent). The last step reads the step launched for a
    # request that had already ended: dropped.
    assert seen == [free_run[:1], free_run[:2], free_run[:3], free_run[:3], free_run[:3], free_run[:3]]
    assert sink["s"]["done"] == {"ids": free_run[:3], "finish_reason": "stop", "stop_ids": stop,
                                 "prompt_tokens": 3, "completion_tokens": 3}
    assert _held_back([1, 2, 60, 61], [[60, 61, 62]]) == 2
    assert _held_back([1, 2], [[60, 61, 62]]) == 0


def test_cancel_frees_the_slot_for_the_next_request(model):
    engine = ServeEngine(model, max_batch=1, max_len=32)
    sink = {}
    engine.submit(collect("long", sink, prompt=[1, 2], max_new_tokens=20))
    engine.submit(collect("next", sink, prompt=[3], max_new_tokens=3))
    engine.step()
    engine.step()
    assert engine.rows[0].rid == "long" and sink["next"]["streamed"] == []
    assert engine.cancel("long") is True
    assert engine.cancel("nobody") is False
    while engine.busy():
        engine.step()
    assert sink["long"]["done"]["finish_reason"] == "cancelled"
    assert len(sink["long"]["done"]["ids"]) == 2  # the prefill's token and the first decode step's
    assert sink["next"]["done"] == alone(model, [3], max_new_tokens=3)


def test_submit_that_does_not_fit_a_slot_is_refused(model):
    engine = ServeEngine(model, max_batch=1, max_len=8)
    with pytest.raises(WorkerError) as e:
        engine.submit(ServeRequest(rid="x", prompt=[1, 2, 3], max_new_tokens=6))
    assert e.value.code == "WORKER_INVALID_REQUEST"
    assert "prompt (3 tokens) + max_new_tokens (6) exceeds the slot size max_len 8" in e.value.message


def _adapter(model_dir, out, seed, targets):
    m = load_model(model_dir, dtype=torch.float64)
    apply_lora(m, LoraConfig(r=2 + seed, alpha=8, target_modules=targets), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():  # B starts at zero (PEFT init): give the adapter a visible effect
        g = torch.Generator().manual_seed(100 + seed)
        for p in m.parameters():
            if p.requires_grad:
                p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5)
    return save_peft_adapter(m, str(out), model_dir)


def test_two_adapters_and_the_base_in_one_batch_equal_each_alone(tmp_path):
    base_dir = write_tiny_model(tmp_path / "base", "llama")
    a = _adapter(base_dir, tmp_path / "a", 1, ["q_proj", "v_proj"])
    b = _adapter(base_dir, tmp_path / "b", 2, ["o_proj", "down_proj", "v_proj"])
    served = load_model(base_dir, dtype=torch.float64)
    names = install_adapters(served, {"a": a, "b": b}, max_rows=4)
    assert names == {"a": 1, "b": 2}
    engine = ServeEngine(served, max_batch=4, max_len=32)
    sink = {}
    prompt = [1, 5, 9]
    run_all(engine, {0: [collect("base", sink, prompt=prompt, max_new_tokens=8),
                         collect("a", sink, prompt=prompt, max_new_tokens=8, adapter=1)],
                     1: [collect("b", sink, prompt=prompt, max_new_tokens=8, adapter=2)]})
    for rid, folder in (("base", None), ("a", a), ("b", b)):
        ref = load_model(base_dir, dtype=torch.float64)
        if folder:
            load_peft_adapter(ref, folder)  # unmerged LoraLinear: the training-time forward
        assert sink[rid]["done"] == alone(ref, prompt, max_new_tokens=8), rid
    assert len({tuple(sink[r]["done"]["ids"]) for r in sink}) == 3  # the adapters do change the output


def test_a_wave_of_arrivals_is_prefilled_in_batches_bounded_by_prefill_tokens(model, monkeypatch):
    import tunekit_worker.serve_engine as serve_engine
    monkeypatch.setattr(serve_engine, "PREFILL_TOKENS", 8)
    engine = ServeEngine(model, max_batch=3, max_len=32)
    sink = {}
    prompts = {"p": [1, 2, 3, 4], "q": [5, 6], "r": [7, 8, 9, 10]}
    for rid, prompt in prompts.items():
        engine.submit(collect(rid, sink, prompt=prompt, max_new_tokens=5))
    engine.step()
    # p and q (padded to 4 tokens each: 8) share the first prefill; r would make it 12, so it waits one step.
    assert [r.rid if r else None for r in engine.rows] == ["p", "q", None]
    assert [r.rid for r in engine.waiting] == ["r"]
    while engine.busy():
        engine.step()
    for rid, prompt in prompts.items():
        assert sink[rid]["done"] == alone(model, prompt, max_new_tokens=5), rid
