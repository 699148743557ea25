"""A fork worker started while another thread writes to sys.stderr.

fork() copies only the forking thread, so the child's copy of a stream's
buffer lock that another thread held at that moment is never released: the
worker's first write to the stream, and multiprocessing's flush of the
standard streams when the worker ends, wait for ever, and so does the
parent's shutdown(wait=True). It happened in CI: a done-callback's logged
traceback (on a pool's service thread) overlapped the fork of a new pool's
worker. A gofutures fork worker replaces such a stream
(python/gofutures/_forkstreams.py); the stdlib's hangs. The child blocks on
that lock from CPython 3.14 on (measured: 3.14 and 3.15 hang without the
repair; 3.11's child does not block there), so on older versions this test
passes either way.

The script makes the moment certain: its stderr is a full pipe, and a hook
that runs just before fork() starts a thread whose write blocks there,
holding the lock; the pipe is drained once the fork is done.
"""
import os
import signal
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")]

SCRIPT = r"""
import fcntl, os, sys, threading, time
import multiprocessing as mp
import gofutures as cf

WATCHDOG = 60   # the worker's stuck stream would hang shutdown(): end with 96 instead
threading.Timer(WATCHDOG, lambda: (print("hung", flush=True), os._exit(96))).start()

# stderr (fd 2) becomes a pipe nobody reads yet, filled to the brim.
r, w = os.pipe()
os.dup2(w, 2)
os.close(w)
flags = fcntl.fcntl(2, fcntl.F_GETFL)
fcntl.fcntl(2, fcntl.F_SETFL, flags | os.O_NONBLOCK)
try:
    while True:
        os.write(2, b"f" * 65536)
except BlockingIOError:
    pass
fcntl.fcntl(2, fcntl.F_SETFL, flags)

def blocked_in_write(tid):
    # The kernel's name for where the thread sleeps: a pipe write.
    with open("/proc/self/task/%d/wchan" % tid) as f:
        return "pipe" in f.read()

def hold_stderr():
    t = threading.Thread(target=lambda: (sys.stderr.write("x" * 100000), sys.stderr.flush()),
                         daemon=True)
    t.start()
    for _ in range(10000):   # at most 10 s
        if t.native_id and blocked_in_write(t.native_id):
            return
        time.sleep(0.001)
    print("the writer never blocked", flush=True)
    os._exit(95)

def drain():
    while os.read(r, 65536):
        pass

armed = [True]
def before():
    if armed[0]:
        armed[0] = False
        hold_stderr()   # the lock is held from now until the pipe is drained
def after_in_parent():
    threading.Thread(target=drain, daemon=True).start()
os.register_at_fork(before=before, after_in_parent=after_in_parent)

ex = cf.ProcessPoolExecutor(1, mp_context=mp.get_context("fork"))
print("result", ex.submit(abs, -7).result(timeout=30), flush=True)
ex.shutdown()
print("shut down", flush=True)
os._exit(0)
"""


def test_fork_worker_survives_a_stderr_write_in_another_thread(tmp_path):
    path = tmp_path / "cell.py"
    path.write_text(SCRIPT)
    # Output to a file: a stuck worker would keep a pipe open past the script.
    with open(tmp_path / "out", "w+") as out:
        p = subprocess.Popen([sys.executable, "-W", "ignore::DeprecationWarning", str(path)],
                             stdout=out, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = p.wait(timeout=150)
        finally:
            try:
                os.killpg(p.pid, signal.SIGKILL)   # a stuck worker, left behind
            except OSError:
                pass
            p.wait()
        out.seek(0)
        lines = out.read().splitlines()
    assert (rc, lines) == (0, ["result 7", "shut down"])
