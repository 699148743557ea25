"""Ctrl-C: a real SIGINT, sent by this (another) process, interrupts the
main thread's blocking calls, on both implementations, and the interpreter
then exits cleanly.

Each scenario's task blocks until the main thread releases it after the
interrupt, so the blocking call cannot have returned on its own: the script
prints "ready" just before the call, and "interrupted" (KeyboardInterrupt)
or "returned" after it. Bounds are hang detectors, not timing claims.
"""
import signal
import time

import pytest

from _scenarios import IMPLS, POOL_KINDS, SIGNAL_BOUND, Interactive, script

pytestmark = pytest.mark.timeout(90)

# The blocking call of each scenario; `ex` is a pool whose task `f` (and the
# futures `fs`) block until release() is called.
BLOCKING = {
    "result": "f.result()",
    "exception": "f.exception()",
    "wait": "cf.wait(fs)",
    "wait_first": "cf.wait(fs, return_when=cf.FIRST_COMPLETED)",
    "wait_timeout": "cf.wait(fs, timeout=300)",
    "as_completed": "list(cf.as_completed(fs))",
    "map_iter": "list(it)",
    "shutdown_wait": "ex.shutdown(wait=True)",
}

# A scenario: a pool (with extra constructor arguments `opts`), `setup`,
# then the blocking `call`, interrupted; release() lets every task end,
# `after` runs, the pool shuts down and the script prints `results`.
SCENARIO = """
def main():
    ex = Pool(max_workers=2{opts})
    {setup}
    print("ready", flush=True)
    try:
        {call}
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    else:
        print("returned", flush=True)
    release()
    {after}
    ex.shutdown(wait=True)
    print("results", {results}, flush=True)

if __name__ == "__main__":
    main()
"""

# Here the tasks `fs` (f: the first) and the iterator `it` block until release().
SETUP = "fs = [ex.submit(block_task, i) for i in range(3)]; f = fs[0]; it = ex.map(block_task, range(3))"


def interrupt(path, impl, pool):
    """Sends SIGINT once the scenario is in its blocking call; returns
    (returncode, stdout lines, stderr)."""
    s = Interactive(path, impl, pool)
    s.expect("ready")
    time.sleep(0.2)   # let it enter the call; the call cannot return before release()
    s.p.send_signal(signal.SIGINT)
    s.expect("interrupted", bound=SIGNAL_BOUND)
    return s.finish()


@pytest.mark.parametrize("pool", POOL_KINDS)
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("call", sorted(BLOCKING))
def test_sigint_interrupts_blocking_call(tmp_path, impl, pool, call):
    if (impl, pool, call) == ("stdlib", "process", "shutdown_wait"):
        pytest.skip("Ctrl-C during shutdown(wait=True) breaks the stdlib's own process pool "
                    "(BrokenProcessPool traceback); gofutures' is the case under test")
    path = script(tmp_path, SCENARIO.format(opts="", setup=SETUP, call=BLOCKING[call], after="",
                                            results="[f.result() for f in fs]"))
    rc, lines, err = interrupt(path, impl, pool)
    assert "returned" not in lines
    assert rc == 0, err
    assert err == ""
    assert lines[-1] == "results [0, 1, 2]"


UNCAUGHT = """
def main():
    ex = Pool(max_workers=1)
    f = ex.submit(block_task, 1)
    threading.Timer(5, release).start()   # lets exit join the worker afterwards
    print("ready", flush=True)
    f.result()
    print("returned", flush=True)

if __name__ == "__main__":
    main()
"""


@pytest.mark.parametrize("pool", POOL_KINDS)
def test_uncaught_sigint_exits_like_stdlib(tmp_path, pool):
    """Nobody catches the KeyboardInterrupt: same exit status and the same
    traceback ending on both implementations (the task is released by a
    timer so that the exit's join of the worker can end)."""
    path = script(tmp_path, UNCAUGHT)
    got = {}
    for impl in IMPLS:
        s = Interactive(path, impl, pool)
        s.expect("ready")
        time.sleep(0.2)
        s.p.send_signal(signal.SIGINT)
        rc, lines, err = s.finish()
        assert "returned" not in lines
        assert err.rstrip().endswith("KeyboardInterrupt"), err
        got[impl] = (rc, lines)
    assert got["gofutures"] == got["stdlib"]
