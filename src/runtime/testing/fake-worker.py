"""A stand-in worker for crash-handling tests: says ready, answers ping, and dies on `crash` (no done).

`--protocol N` announces protocol N in `ready` (`--protocol none` leaves the key out); `echo` answers with the
request line it received, so tests see what the client sends. `generate` answers each prompt with its own last
id (and this process's pid in `pid`), or exits 3 mid-request when max_new_tokens is 13.
"""
import os
import json
import sys

ready_protocol = 1
if "--protocol" in sys.argv:
    value = sys.argv[sys.argv.index("--protocol") + 1]
    ready_protocol = None if value == "none" else int(value)
ready = {"event": "ready", "protocol": ready_protocol, "worker_version": "fake", "torch": "0", "python": "3",
         "cuda": False, "devices": [], "pid": 0}
if ready_protocol is None:
    del ready["protocol"]
print(json.dumps(ready), flush=True)
for line in sys.stdin:
    msg = json.loads(line)
    if msg["method"] == "ping":
        print(json.dumps({"event": "done", "id": msg["id"], "result": {"pong": True}}), flush=True)
    elif msg["method"] == "echo":
        print(json.dumps({"event": "done", "id": msg["id"], "result": {"request": msg}}), flush=True)
    elif msg["method"] == "generate":
        params = msg["params"]
        if params.get("max_new_tokens") == 13:
            print("RuntimeError: simulated generate failure", file=sys.stderr, flush=True)
            sys.exit(3)
        outputs = [{"ids": p[-1:], "finish_reason": "length", "stop_ids": None} for p in params["prompts"]]
        print(json.dumps({"event": "done", "id": msg["id"], "result": {
            "outputs": outputs, "prompt_tokens": sum(len(p) for p in params["prompts"]),
            "completion_tokens": len(outputs), "pid": os.getpid()}}), flush=True)
    elif msg["method"] == "crash":
        print(json.dumps({"event": "progress", "id": msg["id"], "step": 1, "total_steps": 9, "epoch": 0.1,
                          "loss": 2.5, "lr": 0.1, "tokens_per_s": 1.0, "eta_s": 1.0}), flush=True)
        print("Traceback (most recent call last):", file=sys.stderr, flush=True)
        print("RuntimeError: simulated failure", file=sys.stderr, flush=True)
        sys.exit(3)
    elif msg["method"] == "shutdown":
        print(json.dumps({"event": "done", "id": msg["id"], "result": {}}), flush=True)
        sys.exit(0)
