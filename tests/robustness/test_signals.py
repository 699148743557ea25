"""The Go runtime does not take SIGINT, SIGTERM, SIGCHLD, SIGUSR1 or SIGPIPE
from Python: handlers installed before and after the engine is loaded
still run, SIGPIPE stays ignored (BrokenPipeError), and subprocess works
inside tasks. Differential: the same script on the stdlib and gofutures."""
import os
import signal
import time

import pytest

from _scenarios import IMPLS, POOL_KINDS, Interactive, assert_clean, differential, same_outcome, script

pytestmark = pytest.mark.timeout(120)

HANDLERS = """
import signal, subprocess
SIGS = [signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGUSR1]
got = []

def handler(signum, frame):
    got.append(("first", signal.Signals(signum).name))

def handler2(signum, frame):
    got.append(("second", signal.Signals(signum).name))

def deliver(tag):
    for s in SIGS:
        os.kill(os.getpid(), s)
        deadline = time.monotonic() + 10
        while (tag, s.name) not in got and time.monotonic() < deadline:
            time.sleep(0.005)
    print(tag, sorted(name for t, name in got if t == tag), flush=True)

def pipe_write():
    r, w = os.pipe()
    os.close(r)
    try:
        os.write(w, b"x")
        return "written"
    except BrokenPipeError:
        return "BrokenPipeError"
    finally:
        os.close(w)

def child(code):
    return subprocess.run([sys.executable, "-c", "import sys; sys.exit(%d)" % code]).returncode

if __name__ == "__main__":
    for s in SIGS:
        signal.signal(s, handler)            # before the engine loads
    before = {s: signal.getsignal(s) for s in SIGS + [signal.SIGPIPE]}
    ex = Pool(max_workers=4)
    print("task", ex.submit(abs, -1).result())
    after = {s: signal.getsignal(s) for s in SIGS + [signal.SIGPIPE]}
    print("handlers unchanged by the load", before == after, after[signal.SIGPIPE] == signal.SIG_IGN)
    deliver("first")
    for s in SIGS:
        signal.signal(s, handler2)           # after the engine loaded
    deliver("second")
    print("pipe in main", pipe_write())
    print("pipe in task", ex.submit(pipe_write).result())
    got.clear()
    print("subprocess in tasks", list(ex.map(child, range(6))))
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        time.sleep(0.005)
    print("SIGCHLD handler ran for the children", sorted(set(got)))
    ex.shutdown()
"""


@pytest.mark.parametrize("pool", POOL_KINDS)
def test_signal_handlers_and_subprocess_like_stdlib(tmp_path, pool):
    got = differential(script(tmp_path, HANDLERS), pool)
    same_outcome(got)
    r = got["gofutures"]
    assert_clean(r)
    lines = r.stdout.splitlines()
    assert "handlers unchanged by the load True True" in lines
    assert "first ['SIGCHLD', 'SIGINT', 'SIGTERM', 'SIGUSR1']" in lines
    assert "second ['SIGCHLD', 'SIGINT', 'SIGTERM', 'SIGUSR1']" in lines
    assert "pipe in task BrokenPipeError" in lines
    assert "subprocess in tasks [0, 1, 2, 3, 4, 5]" in lines
    if pool == "thread":   # a process pool's tasks fork from its workers: their SIGCHLD goes there
        assert "SIGCHLD handler ran for the children [('second', 'SIGCHLD')]" in lines


STORM = """
import signal
count = 0
def handler(signum, frame):
    global count
    count += 1

def work(i):
    return sum(range(i % 1000))

if __name__ == "__main__":
    {when_before}
    ex = Pool(max_workers=4)
    ex.submit(abs, 1).result()
    {when_after}
    print("ready", flush=True)
    deadline = time.monotonic() + 30
    while not os.path.exists(sys.argv[0] + ".stop") and time.monotonic() < deadline:
        list(ex.map(work, range(2000)))
        fs = [ex.submit(work, i) for i in range(200)]
        cf.wait(fs)
    ex.shutdown()
    print("handled", count > 0, flush=True)
"""


@pytest.mark.parametrize("pool", POOL_KINDS)
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("when", ["before_load", "after_load"])
def test_signal_storm_during_work(tmp_path, impl, pool, when):
    """Signals sent from outside land on any thread, Go's included, while
    the pool works; Python's handler runs and nothing crashes. ("after_load"
    covers 3.9, where a handler installed late lacks SA_ONSTACK.)"""
    install = "signal.signal(signal.SIGUSR1, handler)"
    path = script(tmp_path, STORM.format(when_before=install if when == "before_load" else "pass",
                                         when_after=install if when == "after_load" else "pass"))
    s = Interactive(path, impl, pool)
    s.expect("ready")
    for _ in range(200):
        s.p.send_signal(signal.SIGUSR1)
        time.sleep(0.002)
    open(path + ".stop", "w").close()
    rc, lines, err = s.finish()
    assert rc == 0, err
    assert "Traceback" not in err and "fatal" not in err.lower(), err
    assert lines[-1] == "handled True"
