"""The JSON-lines protocol over stdio (docs/worker-protocol.md).

stdout carries protocol lines only: at start the real stdout is kept for events and file descriptor 1 is pointed
at stderr, so a stray print (ours, a library's, or C code's) lands in the log instead of corrupting the stream.
"""

import json
import os
import platform
import sys
import threading
import traceback
from typing import Callable, Dict, Optional, TextIO

import torch

from . import __version__
from .errors import WorkerError

# The version of docs/worker-protocol.md spoken here; src/runtime/protocol-version.ts holds the same number.
PROTOCOL = 1
PROTOCOL_FIX = ("the TypeScript package and the Python worker come from different tunekit releases: reinstall "
                "tunekit so both come from one release (the npm package ships worker/tunekit_worker), and make sure "
                "neither worker.python, TUNEKIT_PYTHON nor PYTHONPATH points at another tunekit_worker")
INTERNAL_FIX = "this is a bug in tunekit_worker: report it with the traceback from the worker log (stderr)"
OOM_FIX = ("lower batch_size (raise grad_accum to keep the effective batch) or seq_len, enable "
           "gradient_checkpointing, use LoRA instead of full fine-tuning, or pick a GPU with more memory")


class Unrecoverable(Exception):
    """The process cannot serve further requests (e.g. a poisoned CUDA context): exit non-zero after reporting."""


class EventWriter:
    def __init__(self, stream: TextIO):
        self.stream = stream
        self.lock = threading.Lock()

    def __call__(self, event: dict) -> None:
        line = json.dumps(event, separators=(",", ":"), allow_nan=False, default=str)
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()


def _finite(value):
    """JSON has no NaN/Infinity: report them as null rather than emit an unparsable line."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def take_stdout() -> TextIO:
    """A private handle on the real stdout; fd 1 and sys.stdout now write to stderr."""
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def ready_event() -> dict:
    cuda = torch.cuda.is_available()
    devices = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else []
    return {"event": "ready", "protocol": PROTOCOL, "worker_version": __version__, "torch": torch.__version__,
            "python": platform.python_version(), "cuda": cuda, "devices": devices, "pid": os.getpid()}


def error_event(exc: BaseException) -> dict:
    """Map any exception to the error event body; raises Unrecoverable's twin flag via the `fatal` key."""
    if isinstance(exc, WorkerError):
        return {"code": exc.code, "message": exc.message, "fix": exc.fix, "fatal": False}
    text = str(exc)
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if (oom_type is not None and isinstance(exc, oom_type)) or "out of memory" in text.lower():
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        return {"code": "WORKER_OUT_OF_MEMORY", "message": f"ran out of memory: {text.splitlines()[0] if text else ''}",
                "fix": OOM_FIX, "fatal": False}
    fatal = isinstance(exc, Unrecoverable) or "CUDA error" in text or "device-side assert" in text
    return {"code": "WORKER_INTERNAL", "message": f"{type(exc).__name__}: {text}", "fix": INTERNAL_FIX,
            "fatal": fatal}


def check_protocol(version, what: str) -> None:
    """A request may say which protocol it speaks (tunekit's client always does; a hand-typed line may leave it
    out). Another version would be misread, so it is refused before anything runs."""
    if version is None:
        return
    if not isinstance(version, int) or isinstance(version, bool) or version != PROTOCOL:
        raise WorkerError("WORKER_PROTOCOL_MISMATCH",
                          f"{what} speaks worker protocol {version!r}; this worker (tunekit_worker {__version__} at "
                          f"{os.path.dirname(os.path.abspath(__file__))}) speaks protocol {PROTOCOL}", PROTOCOL_FIX)


def _check_request(msg) -> tuple:
    if not isinstance(msg, dict):
        raise WorkerError("WORKER_BAD_REQUEST", f"a request must be a JSON object, got {type(msg).__name__}",
                          'send {"id": "...", "method": "...", "params": {...}} on one line')
    rid = msg.get("id")
    if not isinstance(rid, (str, int)) or isinstance(rid, bool):
        raise WorkerError("WORKER_BAD_REQUEST", f"request id must be a string or integer, got {rid!r}",
                          'give every request a unique "id"')
    check_protocol(msg.get("protocol"), f"request {rid!r}")
    method, params = msg.get("method"), msg.get("params", {})
    if not isinstance(method, str):
        raise WorkerError("WORKER_BAD_REQUEST", f"request {rid!r} has no method", 'set "method", e.g. "ping"')
    if not isinstance(params, dict):
        raise WorkerError("WORKER_BAD_REQUEST", f"params of request {rid!r} must be an object, got {params!r}",
                          'send "params": {...} (or leave it out)')
    return rid, method, params


class Server:
    def __init__(self, out: TextIO):
        self.emit = EventWriter(out)
        self.running = True
        self.failed = False
        from .requests import Handlers
        self.handlers = Handlers()
        self.methods: Dict[str, Callable] = {
            "ping": lambda params, emit: {"pong": True},
            "train": self._train,
            "generate": self.handlers.generate,
            "score": self.handlers.score,
            "merge": self.handlers.merge,
            "shutdown": self._shutdown,
        }
        from .serve_session import ServeHandlers
        self.serving = ServeHandlers(free_memory=self.handlers.models.clear)
        self.methods.update({"serve_start": self.serving.start, "cancel": self.serving.cancel,
                             "serve_stop": self.serving.stop})
        # submit's done comes later, from the scheduler thread (serve_session.py); it needs its own id.
        self.deferred: Dict[str, Callable] = {"submit": self.serving.submit}

    def _train(self, params, emit) -> dict:
        self.serving.stop({}, emit)  # training needs the memory; open submits end "cancelled"
        return self.handlers.train(params, emit)

    def _shutdown(self, params, emit) -> dict:
        self.serving.stop({}, emit)
        self.running = False
        return {}

    def handle_line(self, line: str) -> Optional[int]:
        """Serve one request line. Returns an exit code when the worker must stop, else None."""
        rid = None
        try:
            try:
                msg = json.loads(line)
            except json.JSONDecodeError as e:
                raise WorkerError("WORKER_BAD_REQUEST", f"request line is not JSON ({e}): {line[:200]!r}",
                                  "send one JSON object per line") from None
            rid = msg.get("id") if isinstance(msg, dict) else None
            rid, method, params = _check_request(msg)
            handler = self.methods.get(method)
            emit = lambda event: self.emit(_finite({**event, "id": rid}))  # noqa: E731
            if method in self.deferred:
                self.deferred[method](rid, params, emit)
                return None if self.running else 0
            if handler is None:
                raise WorkerError("WORKER_UNKNOWN_METHOD", f"unknown method {method!r}",
                                  f"use one of: {', '.join(sorted([*self.methods, *self.deferred]))}")
            result = handler(params, emit)
            self.emit(_finite({"event": "done", "id": rid, "result": result}))
        except Exception as exc:  # every failure becomes exactly one error event
            self.failed = True
            body = error_event(exc)
            if not isinstance(exc, WorkerError):
                traceback.print_exc(file=sys.stderr)
            fatal = body.pop("fatal")
            self.emit({"event": "error", "id": rid, **body})
            if fatal:
                return 1
        return None if self.running else 0


def serve(stdin: TextIO = None) -> int:
    out = take_stdout()
    stdin = stdin or sys.stdin
    server = Server(out)
    from .parent_watch import watch_parent
    watch_parent()
    server.emit(ready_event())
    try:
        for line in stdin:
            if not line.strip():
                continue
            code = server.handle_line(line)
            if code is not None:
                return code
    except KeyboardInterrupt:  # SIGINT outside training (training turns it into a clean "interrupted" stop)
        print("tunekit_worker: interrupted", file=sys.stderr)
        return 130
    return 0  # stdin closed: the supervisor is gone


def run_once(method: str, params_path: str, protocol: Optional[int] = None) -> int:
    """`python -m tunekit_worker train --params p.json`: one request, events on stdout (rank 0 only under torchrun)."""
    out = take_stdout()
    is_main = int(os.environ.get("RANK", "0")) == 0
    server = Server(out if is_main else sys.stderr)
    try:
        with open(params_path, "r", encoding="utf-8") as f:
            params = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        server.emit({"event": "error", "id": method, "code": "WORKER_BAD_REQUEST",
                     "message": f"cannot read params file {params_path}: {e}", "fix": "pass a JSON params file"})
        return 2
    line = json.dumps({"id": method, "method": method, "params": params, "protocol": protocol})
    server.running = False  # one request, then exit
    code = server.handle_line(line)
    return 0 if code in (None, 0) and not server.failed else 1
