import json
import os
import signal
import subprocess
import sys

import pytest

from train_fixtures import train_params, write_pattern_dataset

WORKER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Worker:
    """A `python3 -m tunekit_worker` subprocess spoken to over its stdio, as the supervisor does."""

    def __init__(self):
        env = dict(os.environ, PYTHONPATH=WORKER_DIR, OMP_NUM_THREADS="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "tunekit_worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def send(self, rid, method, params=None):
        self.proc.stdin.write(json.dumps({"id": rid, "method": method, "params": params or {}}) + "\n")
        self.proc.stdin.flush()

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, f"worker closed stdout; stderr: {self.proc.stderr.read()[-2000:]}"
        return json.loads(line)

    def until_end(self, rid, on_event=None) -> list:
        events = []
        while True:
            event = self.read()
            events.append(event)
            if on_event is not None:
                on_event(event)
            if event.get("id") == rid and event["event"] in ("done", "error"):
                return events

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            stream.close()


@pytest.fixture
def worker():
    w = Worker()
    yield w
    w.close()


def test_ready_ping_unknown_method_and_shutdown(worker):
    ready = worker.read()
    assert ready["event"] == "ready" and ready["protocol"] == 1 and ready["pid"] == worker.proc.pid
    assert {"worker_version", "torch", "python", "cuda", "devices"} <= set(ready)
    worker.send("r1", "ping")
    assert worker.read() == {"event": "done", "id": "r1", "result": {"pong": True}}
    worker.send("r2", "fly")
    error = worker.read()
    assert (error["event"], error["id"], error["code"]) == ("error", "r2", "WORKER_UNKNOWN_METHOD")
    assert error["fix"].startswith("use one of: cancel, generate, merge, ping")
    worker.proc.stdin.write("not json\n")
    worker.proc.stdin.flush()
    assert worker.read()["code"] == "WORKER_BAD_REQUEST"
    worker.send("r3", "train", {"batch_size": 0})
    bad = worker.read()
    assert bad["code"] == "WORKER_BAD_PARAMS"
    assert ("params.model_dir: missing, expected a non-empty string: Hugging Face model folder (config.json, "
            "*.safetensors)") in bad["message"]
    worker.send("r4", "ping")  # still serving after every bad request
    assert worker.read()["result"] == {"pong": True}
    worker.send("r5", "shutdown")
    assert worker.read() == {"event": "done", "id": "r5", "result": {}}
    assert worker.proc.wait(timeout=30) == 0


def test_sigint_finishes_the_step_checkpoints_and_reports_interrupted(worker, tmp_path):
    data = write_pattern_dataset(str(tmp_path / "data"))
    worker.read()
    out = str(tmp_path / "run")
    worker.send("t", "train", train_params(data, out, max_steps=100000, eval={"every_steps": None},
                                           checkpoint={"every_steps": None, "keep_last": 1}))

    def interrupt_once(event):
        if event["event"] == "progress" and event["step"] == 3:
            worker.proc.send_signal(signal.SIGINT)

    events = worker.until_end("t", interrupt_once)
    done = events[-1]
    assert done["event"] == "done" and done["result"]["stopped"] == "interrupted"
    steps = done["result"]["steps"]
    assert 3 <= steps < 100000
    assert events[-2]["event"] == "checkpoint" and events[-2]["step"] == steps
    assert os.path.isdir(os.path.join(out, "checkpoints", f"step-{steps}"))
    assert os.path.isfile(os.path.join(out, "adapter", "adapter_model.safetensors"))
    worker.send("p", "ping")  # the worker keeps serving after an interrupted run
    assert worker.read()["result"] == {"pong": True}


def test_resume_after_sigkill_continues_the_loss_curve(tmp_path):
    data = write_pattern_dataset(str(tmp_path / "data"))
    params = dict(max_steps=16, eval={"every_steps": 4}, checkpoint={"every_steps": 4, "keep_last": 3})

    def losses(events):
        return {e["step"]: e["loss"] for e in events if e["event"] == "progress"}

    reference = Worker()
    try:
        reference.read()
        reference.send("a", "train", train_params(data, str(tmp_path / "ref"), **params))
        expected = losses(reference.until_end("a"))
    finally:
        reference.close()
    assert sorted(expected) == list(range(1, 17))

    out = str(tmp_path / "run")
    victim = Worker()
    try:
        victim.read()
        victim.send("b", "train", train_params(data, out, **params))
        while True:
            event = victim.read()
            if event["event"] == "checkpoint" and event["step"] == 8:
                victim.proc.send_signal(signal.SIGKILL)
                break
        victim.proc.wait(timeout=30)
    finally:
        victim.close()

    survivor = Worker()
    try:
        survivor.read()
        survivor.send("c", "train", train_params(data, out, resume_from=out, **params))
        events = survivor.until_end("c")
    finally:
        survivor.close()
    assert events[-1]["event"] == "done" and events[-1]["result"]["steps"] == 16
    resumed = losses(events)
    first = min(resumed)
    assert first in (9, 13)  # resumed from the newest complete checkpoint (step 8, or 12 if written before the kill)
    assert sorted(resumed) == list(range(first, 17))
    for step, loss in resumed.items():
        assert loss == pytest.approx(expected[step], abs=1e-6)


def test_stray_output_goes_to_stderr_not_the_protocol_stream():
    code = ("import os; from tunekit_worker.protocol import take_stdout; out = take_stdout(); print('stray'); "
            "os.system('echo from-c'); out.write('protocol\\n'); out.flush()")
    env = dict(os.environ, PYTHONPATH=WORKER_DIR)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.stdout == "protocol\n"
    assert "stray" in proc.stderr and "from-c" in proc.stderr


def test_error_events_for_known_failures():
    from tunekit_worker.errors import WorkerError
    from tunekit_worker.protocol import error_event
    assert error_event(WorkerError("WORKER_BAD_SHARDS", "m", "f")) == {
        "code": "WORKER_BAD_SHARDS", "message": "m", "fix": "f", "fatal": False}
    oom = error_event(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert oom["code"] == "WORKER_OUT_OF_MEMORY" and not oom["fatal"]
    assert "batch_size" in oom["fix"] and "gradient_checkpointing" in oom["fix"]
    internal = error_event(ValueError("boom"))
    assert (internal["code"], internal["message"], internal["fatal"]) == ("WORKER_INTERNAL", "ValueError: boom", False)
    assert error_event(RuntimeError("CUDA error: an illegal memory access was encountered"))["fatal"] is True


def _served(line: str) -> list:
    """The events one request line produces on a Server writing into a list."""
    import io
    from tunekit_worker.protocol import Server
    out = io.StringIO()
    Server(out).handle_line(line)
    return [json.loads(x) for x in out.getvalue().splitlines()]


def test_a_request_speaking_the_workers_protocol_or_none_is_served():
    from tunekit_worker.protocol import PROTOCOL
    assert PROTOCOL == 1  # src/runtime/protocol-version.ts WORKER_PROTOCOL must change with it
    assert _served(json.dumps({"id": "r1", "method": "ping", "params": {}, "protocol": PROTOCOL})) == [
        {"event": "done", "id": "r1", "result": {"pong": True}}]
    assert _served(json.dumps({"id": "r2", "method": "ping"})) == [{"event": "done", "id": "r2", "result": {"pong": True}}]


def test_a_request_speaking_another_protocol_is_refused_before_it_runs():
    from tunekit_worker.protocol import PROTOCOL_FIX
    import tunekit_worker
    here = os.path.dirname(os.path.abspath(tunekit_worker.__file__))
    for sent in (2, "1", True):
        events = _served(json.dumps({"id": "r1", "method": "shutdown", "params": {}, "protocol": sent}))
        assert events == [{"event": "error", "id": "r1", "code": "WORKER_PROTOCOL_MISMATCH",
                           "message": f"request 'r1' speaks worker protocol {sent!r}; this worker (tunekit_worker "
                                      f"{tunekit_worker.__version__} at {here}) speaks protocol 1",
                           "fix": PROTOCOL_FIX}]


def test_one_shot_mode_refuses_another_protocol(tmp_path):
    params = tmp_path / "p.json"
    params.write_text("{}")
    env = dict(os.environ, PYTHONPATH=WORKER_DIR)
    proc = subprocess.run([sys.executable, "-m", "tunekit_worker", "train", "--params", str(params), "--protocol", "7"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1
    event = json.loads(proc.stdout.splitlines()[-1])
    assert (event["event"], event["id"], event["code"]) == ("error", "train", "WORKER_PROTOCOL_MISMATCH")
    assert "speaks worker protocol 7" in event["message"]
