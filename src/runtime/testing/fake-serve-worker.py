"""A stand-in serving-mode worker for gateway tests (docs/worker-protocol.md "Serving"), with timings on record.

Env: FAKE_SERVE_REPLIES — JSON {"<adapter folder>" or "": [token ids]}: what a submit with that adapter (""
= the base) produces, one id per FAKE_SERVE_DELAY_MS (default 40), up to max_new_tokens, ending early at a
stop token. FAKE_SERVE_LOG — a file where every serve_start, submit, token, cancel and done is appended as a
JSON line with the wall time in ms (`t`), so a test can compare when tokens were produced with when they
arrived. Submits run concurrently (a thread each), as in the real worker's continuous batch.

FAKE_SERVE_BATCH_STEP_MS (bench/gateway-serving.ts) switches to one decode loop like the real scheduler: every
step it admits the submits that arrived, emits one `token` per active request (the reply's ids cycled, so any
max_new_tokens is reached) and ends each at max_new_tokens. At 16k+ tokens/s a log line and a flush per token
would be the fake's own bottleneck, so a step is one write to stdout and one `step` log line listing its requests.
"""
import json
import os
import queue
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


def batch_loop(step, pending):
    """One token per active request per step, on an absolute schedule (a late step is not made up in a burst)."""
    active, out = {}, open(LOG, "a") if LOG else None
    nxt = time.monotonic()
    while True:
        if not active:
            active.update([pending.get()])  # idle: wait for a submit instead of spinning
            nxt = time.monotonic()
        nxt += step
        time.sleep(max(0.0, nxt - time.monotonic()))
        nxt = max(nxt, time.monotonic())  # behind schedule: the next step is late, not a burst to catch up
        while not pending.empty():  # admitted at the step boundary, first token this step (no prefill cost)
            rid, params = pending.get()
            active[rid] = params
        lines, logged, finished = [], [], []
        for rid, params in active.items():
            made = params.setdefault("_ids", [])
            if cancels[rid].is_set():
                finished.append((rid, "cancelled"))
                continue
            reply = REPLIES.get(params.get("adapter") or "", []) or [0]
            made.append(reply[len(made) % len(reply)])
            lines.append(json.dumps({"event": "token", "id": rid, "ids": [made[-1]]}))
            logged.append(rid)
            if len(made) >= params.get("max_new_tokens", 64):
                finished.append((rid, "length"))
        now = time.time() * 1000
        for rid, reason in finished:
            done = active.pop(rid)
            ids = done["_ids"]
            lines.append(json.dumps({"event": "done", "id": rid, "result": {
                "ids": ids, "finish_reason": reason, "stop_ids": [], "prompt_tokens": len(done["prompt"]),
                "completion_tokens": len(ids)}}))
        with lock:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
        if out:
            out.write(json.dumps({"t": now, "kind": "step", "ids": logged}) + "\n")
            for rid, reason in finished:
                out.write(json.dumps({"t": now, "kind": "done", "id": rid, "finish_reason": reason}) + "\n")
            out.flush()


BATCH_STEP = os.environ.get("FAKE_SERVE_BATCH_STEP_MS")
pending = queue.Queue()
if BATCH_STEP:
    threading.Thread(target=batch_loop, args=(float(BATCH_STEP) / 1000, pending), daemon=True).start()

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
        if BATCH_STEP:
            pending.put((rid, params))
            continue
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
