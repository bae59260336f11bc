"""Stop when the supervisor dies.

During a long `train` request the worker reads no stdin, so a supervisor killed with SIGKILL would go unnoticed
until the next event write. A daemon thread polls the parent pid: once the worker has been re-parented, events
go to /dev/null (nobody reads them and a broken pipe must not abort the checkpoint) and the worker interrupts
itself exactly as Ctrl-C would — finish the step, write a checkpoint, stop — so `tunekit runs resume` continues
from the latest state. If it has not exited within `grace_s`, it exits hard.
"""

import os
import signal
import threading
import time


def watch_parent(interval_s: float = 1.0, grace_s: float = 120.0) -> threading.Thread:
    parent = os.getppid()

    def run() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(grace_s)
        os._exit(1)

    thread = threading.Thread(target=run, name="tunekit-parent-watch", daemon=True)
    thread.start()
    return thread
