import os
import subprocess
import sys
import time

WORKER = os.path.join(os.path.dirname(__file__), "..")

# Plays the supervisor: starts the worker reading stdin from a pipe whose write end the test holds (so the worker
# cannot learn of the supervisor's death from EOF, as during a long train request), prints its pid once READY.
SUPERVISOR = """
import subprocess, sys
w = subprocess.Popen([sys.executable, "-m", "tunekit_worker"], stdin=int(sys.argv[2]), stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL, cwd=sys.argv[1])
w.stdout.readline()
print(w.pid, flush=True)
import time; time.sleep(120)
"""


def test_worker_exits_when_its_supervisor_is_killed():
    read_end, write_end = os.pipe()
    sup = subprocess.Popen([sys.executable, "-c", SUPERVISOR, WORKER, str(read_end)], stdout=subprocess.PIPE,
                           text=True, pass_fds=(read_end,))
    os.close(read_end)
    pid = int(sup.stdout.readline().strip())
    sup.kill()  # SIGKILL; the worker's stdin stays open because this test still holds the write end
    sup.wait()
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os.close(write_end)
            return
        # A zombie (exited, not yet reaped by init) counts as exited.
        with open(f"/proc/{pid}/stat") as f:
            if f.read().split(")")[-1].split()[0] == "Z":
                os.close(write_end)
                return
        time.sleep(0.2)
    os.close(write_end)
    os.kill(pid, 9)
    raise AssertionError(f"worker {pid} was still running 20 s after its supervisor died")
