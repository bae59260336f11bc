"""The protocol side of serving (docs/worker-protocol.md "Serving"): `serve_start` loads a base model with its
named adapters and starts the scheduler thread; `submit` queues a request whose tokens stream back as `token`
events and which ends with its own `done` later; `cancel` ends a submit early (its slot is freed at the next
step); `serve_stop` cancels what is left and unloads.

stdin is read on the main thread while the scheduler thread decodes, so a submit joins the running batch at the
next step instead of waiting for the others to finish. The two threads meet only at the inbox queue and the
event writer (which has its own lock).
"""

import queue
import sys
import threading
import traceback
from typing import Callable, Dict, Optional

import torch

from .contract import resolve_params
from .errors import WorkerError
from .serve_engine import ServeEngine, ServeRequest

IDLE_WAIT_S = 0.5  # an idle scheduler wakes this often to notice a stop


def _not_serving(what: str) -> WorkerError:
    return WorkerError("WORKER_NOT_SERVING", f"{what}: the worker is not in serving mode",
                       "send serve_start (model_dir, adapters) first; submit and cancel work only while serving")


class ServeSession:
    def __init__(self, engine: ServeEngine, adapters: Dict[str, int]):
        self.engine, self.adapters = engine, adapters
        self.inbox: "queue.Queue" = queue.Queue()
        self.open: set = set()        # submit ids without their done/error yet
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, name="tunekit-serve", daemon=True)
        self.thread.start()

    def submit(self, rid, raw: dict, emit: Callable[[dict], None]) -> None:
        params = resolve_params("submit", raw)
        name = params["adapter"]
        if name is not None and name not in self.adapters:
            known = ", ".join(sorted(self.adapters)) or "none"
            raise WorkerError("WORKER_INVALID_REQUEST", f"submit {rid!r}: unknown adapter {name!r}",
                              f"use one of the adapters given to serve_start ({known}), or null for the base model")

        def done(result: dict) -> None:
            with self.lock:
                self.open.discard(rid)
            emit({"event": "done", "result": result})

        req = ServeRequest(rid=rid, prompt=params["prompt"], adapter=self.adapters.get(name, 0),
                           max_new_tokens=params["max_new_tokens"], temperature=float(params["temperature"]),
                           top_p=float(params["top_p"]), seed=params["seed"],
                           stop_token_ids=params["stop_token_ids"], stop_sequences=params["stop_sequences"],
                           on_tokens=lambda ids: emit({"event": "token", "ids": ids}), on_done=done)
        self.engine.check(req)  # refused here: the error event answers the submit itself
        with self.lock:
            if rid in self.open:
                raise WorkerError("WORKER_INVALID_REQUEST", f"submit id {rid!r} is already running",
                                  "give every submit a unique id")
            self.open.add(rid)
        req.emit = emit
        self.inbox.put(("submit", req))

    def cancel(self, raw: dict) -> dict:
        rid = resolve_params("cancel", raw)["request_id"]
        with self.lock:
            known = rid in self.open
        if known:
            self.inbox.put(("cancel", rid))
        return {"request_id": rid, "cancelled": known}

    def stop(self) -> None:
        self.stopping = True
        self.inbox.put(("stop", None))
        self.thread.join()

    def _drain(self, block: bool) -> None:
        try:
            item = self.inbox.get(timeout=IDLE_WAIT_S) if block else self.inbox.get_nowait()
            while True:
                kind, value = item
                if kind == "submit":
                    self.engine.submit(value)
                elif kind == "cancel":
                    self.engine.cancel(value)
                item = self.inbox.get_nowait()
        except queue.Empty:
            return

    def _loop(self) -> None:
        from .protocol import error_event
        while not self.stopping:
            self._drain(block=not self.engine.busy())
            if self.stopping or not self.engine.busy():
                continue
            try:
                self.engine.step()
            except Exception as exc:  # every running request ends with the error; serving goes on
                body = error_event(exc)
                if not isinstance(exc, WorkerError):
                    traceback.print_exc(file=sys.stderr)
                body.pop("fatal")
                self.engine.fail_all(lambda req: self._fail(req, body))
        self._drain(block=False)
        self.engine.abort_all("cancelled")

    def _fail(self, req: ServeRequest, body: dict) -> None:
        with self.lock:
            self.open.discard(req.rid)
        req.emit({"event": "error", **body})


class ServeHandlers:
    """serve_start / submit / cancel / serve_stop for protocol.Server; at most one session at a time."""

    def __init__(self, free_memory: Callable[[], None]):
        self.session: Optional[ServeSession] = None
        self.free_memory = free_memory

    def start(self, raw: dict, emit) -> dict:
        from .models.loading import load_model
        from .multi_lora import install_adapters
        from .requests import _device_dtype
        params = resolve_params("serve_start", raw)
        self.stop({}, emit)
        self.free_memory()  # the generate/score model cache: serving holds its own model
        device, dtype = _device_dtype(params)
        model = load_model(params["model_dir"], device=device, dtype=dtype)
        adapters = install_adapters(model, params["adapters"], params["max_batch"])
        with torch.no_grad():
            engine = ServeEngine(model, params["max_batch"], params["max_len"])
        self.session = ServeSession(engine, adapters)
        return {"model_dir": params["model_dir"], "adapters": sorted(adapters), "max_batch": params["max_batch"],
                "max_len": params["max_len"], "device": str(device), "cuda_graphs": engine.graphs is not None}

    def submit(self, rid, raw: dict, emit) -> None:
        if self.session is None:
            raise _not_serving(f"submit {rid!r}")
        self.session.submit(rid, raw, emit)

    def cancel(self, raw: dict, emit) -> dict:
        if self.session is None:
            raise _not_serving("cancel")
        return self.session.cancel(raw)

    def stop(self, raw: dict, emit) -> dict:
        was = self.session is not None
        if self.session is not None:
            self.session.stop()
            self.session = None
        return {"stopped": was}
