"""A stand-in worker for crash-handling tests: says ready, answers ping, and dies on `crash` (no done)."""
import json
import sys

print(json.dumps({"event": "ready", "protocol": 1, "worker_version": "fake", "torch": "0", "python": "3",
                  "cuda": False, "devices": [], "pid": 0}), flush=True)
for line in sys.stdin:
    msg = json.loads(line)
    if msg["method"] == "ping":
        print(json.dumps({"event": "done", "id": msg["id"], "result": {"pong": True}}), flush=True)
    elif msg["method"] == "crash":
        print(json.dumps({"event": "progress", "id": msg["id"], "step": 1, "total_steps": 9, "epoch": 0.1,
                          "loss": 2.5, "lr": 0.1, "tokens_per_s": 1.0, "eta_s": 1.0}), flush=True)
        print("Traceback (most recent call last):", file=sys.stderr, flush=True)
        print("RuntimeError: simulated failure", file=sys.stderr, flush=True)
        sys.exit(3)
    elif msg["method"] == "shutdown":
        print(json.dumps({"event": "done", "id": msg["id"], "result": {}}), flush=True)
        sys.exit(0)
