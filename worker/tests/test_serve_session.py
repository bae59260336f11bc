"""Serving over the real stdio protocol: a worker subprocess, as the gateway's supervisor drives it."""

import pytest
import torch

from model_helper import write_tiny_model
from test_protocol import Worker
from tunekit_worker.generate import generate
from tunekit_worker.models.loading import load_model


@pytest.fixture
def worker():
    w = Worker()
    assert w.read()["event"] == "ready"
    yield w
    w.close()


def read_until(worker, done_ids):
    """Events until every id in done_ids has its done/error: {id: [events]}."""
    by_id, left = {}, set(done_ids)
    while left:
        event = worker.read()
        by_id.setdefault(event["id"], []).append(event)
        if event["event"] in ("done", "error"):
            left.discard(event["id"])
    return by_id


def test_submits_stream_tokens_and_end_with_done(worker, tmp_path):
    model_dir = write_tiny_model(tmp_path / "m", "llama")
    worker.send("s", "serve_start", {"model_dir": model_dir, "max_batch": 2, "max_len": 40, "dtype": "float32"})
    start = worker.read()
    assert start == {"event": "done", "id": "s", "result": {
        "model_dir": model_dir, "adapters": [], "max_batch": 2, "max_len": 40, "device": "cpu",
        "cuda_graphs": False}}
    worker.send("a", "submit", {"prompt": [1, 2, 3], "max_new_tokens": 6})
    worker.send("b", "submit", {"prompt": [4], "max_new_tokens": 4, "temperature": 1.0, "seed": 5})
    events = read_until(worker, {"a", "b"})
    ref = load_model(model_dir)
    for rid, prompt, kw in (("a", [1, 2, 3], {"max_new_tokens": 6}),
                            ("b", [4], {"max_new_tokens": 4, "temperature": 1.0, "seed": 5})):
        out = generate(ref, [prompt], **kw)[0]
        tokens = [t for e in events[rid] if e["event"] == "token" for t in e["ids"]]
        assert tokens == out.ids
        assert events[rid][-1] == {"event": "done", "id": rid, "result": {
            "ids": out.ids, "finish_reason": "length", "stop_ids": [], "prompt_tokens": len(prompt),
            "completion_tokens": len(out.ids)}}
    worker.send("x", "serve_stop")
    assert worker.read() == {"event": "done", "id": "x", "result": {"stopped": True}}


def test_cancel_ends_the_submit_and_frees_its_slot(worker, tmp_path):
    model_dir = write_tiny_model(tmp_path / "m", "qwen3")
    worker.send("s", "serve_start", {"model_dir": model_dir, "max_batch": 1, "max_len": 4000})
    assert worker.read()["event"] == "done"
    worker.send("long", "submit", {"prompt": [1], "max_new_tokens": 3990})
    first = worker.read()
    assert first["id"] == "long" and first["event"] == "token"
    worker.send("c", "cancel", {"request_id": "long"})
    worker.send("next", "submit", {"prompt": [2], "max_new_tokens": 2})  # waits for the only slot
    events = read_until(worker, {"c", "long", "next"})
    assert events["c"] == [{"event": "done", "id": "c", "result": {"request_id": "long", "cancelled": True}}]
    assert events["long"][-1]["result"]["finish_reason"] == "cancelled"
    assert len(events["long"][-1]["result"]["ids"]) < 3990
    assert events["next"][-1]["result"]["finish_reason"] == "length"


def test_serving_errors(worker, tmp_path):
    worker.send("n", "submit", {"prompt": [1]})
    assert worker.read() == {"event": "error", "id": "n", "code": "WORKER_NOT_SERVING",
                             "message": "submit 'n': the worker is not in serving mode",
                             "fix": "send serve_start (model_dir, adapters) first; submit and cancel work only "
                                    "while serving"}
    model_dir = write_tiny_model(tmp_path / "m", "llama")
    worker.send("s", "serve_start", {"model_dir": model_dir, "max_len": 8})
    assert worker.read()["event"] == "done"
    worker.send("u", "submit", {"prompt": [1], "adapter": "nope"})
    err = worker.read()
    assert (err["id"], err["code"], err["message"]) == ("u", "WORKER_INVALID_REQUEST",
                                                        "submit 'u': unknown adapter 'nope'")
    worker.send("big", "submit", {"prompt": [1, 2, 3], "max_new_tokens": 6})
    err = worker.read()
    assert (err["id"], err["code"]) == ("big", "WORKER_INVALID_REQUEST")
    worker.send("bad", "submit", {"prompt": [1], "max_new_tokens": -1})
    err = worker.read()
    assert (err["id"], err["code"]) == ("bad", "WORKER_BAD_PARAMS")
    worker.send("c", "cancel", {"request_id": "gone"})
    assert worker.read() == {"event": "done", "id": "c", "result": {"request_id": "gone", "cancelled": False}}


def test_a_failing_step_ends_the_running_requests_with_an_error_and_serving_goes_on(tmp_path, monkeypatch):
    import threading

    from tunekit_worker.serve_engine import ServeEngine
    from tunekit_worker.serve_session import ServeSession
    model = load_model(write_tiny_model(tmp_path / "m", "llama"))
    engine = ServeEngine(model, max_batch=2, max_len=32)
    session = ServeSession(engine, {})
    events, ended = {}, {rid: threading.Event() for rid in ("x", "y")}

    def sink(rid):
        def emit(event):
            events.setdefault(rid, []).append(event)
            if event["event"] in ("done", "error"):
                ended[rid].set()
        return emit

    real_step = engine._step
    monkeypatch.setattr(engine, "_step", lambda n, advance=True: (_ for _ in ()).throw(RuntimeError("boom")))
    try:
        session.submit("x", {"prompt": [1, 2], "max_new_tokens": 5}, sink("x"))
        assert ended["x"].wait(10)
        assert events["x"][-1] == {"event": "error", "code": "WORKER_INTERNAL", "message": "RuntimeError: boom",
                                   "fix": events["x"][-1]["fix"]}
        assert engine.rows == [None, None] and engine.cache.active.sum().item() == 0
        monkeypatch.setattr(engine, "_step", real_step)
        session.submit("y", {"prompt": [1, 2], "max_new_tokens": 5}, sink("y"))
        assert ended["y"].wait(10)
        assert events["y"][-1]["result"]["ids"] == generate(model, [[1, 2]], max_new_tokens=5)[0].ids
    finally:
        session.stop()
