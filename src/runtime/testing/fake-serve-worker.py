"""A stand-in serving-mode worker for gateway tests (docs/worker-protocol.md "Serving"), with timings on record.

Env: FAKE_SERVE_REPLIES — JSON {"<adapter folder>" or "": [token ids]}: what a submit with that adapter (""
= the base) produces, one id per FAKE_SERVE_DELAY_MS (default 40), up to max_new_tokens, ending early at a
stop token. FAKE_SERVE_LOG — a file where every serve_start, submit, token, cancel and done is appended as a
JSON line with the wall time in ms (`t`), so a test can compare when tokens were produced with when they
arrived. Submits run concurrently (a thread each), as in the real worker's continuous batch.
"""
import json
import os
import sys
import threading
import time

REPLIES = json.loads(os.environ.get("FAKE_SERVE_REPLIES", "{}"))
DELAY = float(os.environ.get("FAKE_SERVE_DELAY_MS", "40")) / 1000
LOG = os.environ.get("FAKE_SERVE_LOG")
lock = threading.Lock()
cancels = {}


def emit(event):
    with lock:
        print(json.dumps(event), flush=True)


def log(entry):
    if LOG:
        with lock, open(LOG, "a") as f:
            f.write(json.dumps({"t": time.time() * 1000, **entry}) + "\n")


def run_submit(rid, params):
    ids, reason, stop_ids = [], "length", []
    reply = REPLIES.get(params.get("adapter") or "", [])
    for tok in reply[:params.get("max_new_tokens", 64)]:
        if cancels[rid].wait(DELAY):
            reason = "cancelled"
            break
        if tok in params.get("stop_token_ids", []):
            reason, stop_ids = "stop", [tok]
            break
        ids.append(tok)
        log({"kind": "token", "id": rid, "ids": [tok]})
        emit({"event": "token", "id": rid, "ids": [tok]})
    log({"kind": "done", "id": rid, "finish_reason": reason})
    emit({"event": "done", "id": rid, "result": {"ids": ids, "finish_reason": reason, "stop_ids": stop_ids,
                                                  "prompt_tokens": len(params["prompt"]),
                                                  "completion_tokens": len(ids)}})


print(json.dumps({"event": "ready", "protocol": 1, "worker_version": "fake", "torch": "0", "python": "3",
                  "cuda": False, "devices": [], "pid": os.getpid()}), flush=True)
for line in sys.stdin:
    msg = json.loads(line)
    method, rid, params = msg["method"], msg["id"], msg.get("params", {})
    if method == "serve_start":
        log({"kind": "serve_start", "id": rid, "adapters": sorted(params.get("adapters", {}))})
        emit({"event": "done", "id": rid, "result": {"adapters": sorted(params.get("adapters", {}))}})
    elif method == "submit":
        log({"kind": "submit", "id": rid, "adapter": params.get("adapter"), "prompt": params["prompt"],
             "max_new_tokens": params.get("max_new_tokens")})
        cancels[rid] = threading.Event()
        threading.Thread(target=run_submit, args=(rid, params), daemon=True).start()
    elif method == "cancel":
        target = params["request_id"]
        log({"kind": "cancel", "id": rid, "request_id": target})
        known = target in cancels and not cancels[target].is_set()
        if known:
            cancels[target].set()
        emit({"event": "done", "id": rid, "result": {"request_id": target, "cancelled": known}})
    elif method == "shutdown":
        emit({"event": "done", "id": rid, "result": {}})
        sys.exit(0)
