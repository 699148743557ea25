"""shutdown(cancel_futures=True): the futures it cancels count as done
(issue 18, a fix of a stdlib defect: the stdlib leaves them CANCELLED,
which wait() and as_completed() never count, so a wait without a timeout
hangs on them)."""
import concurrent.futures as cf
import multiprocessing as mp
import threading
from concurrent.futures import _base

import pytest

import gofutures
import proc_tasks as T

pytestmark = pytest.mark.timeout(180)


def pools():
    yield "thread", lambda: gofutures.ThreadPoolExecutor(1)
    yield "process", lambda: gofutures.ProcessPoolExecutor(1, mp_context=mp.get_context("fork"))


@pytest.mark.parametrize("waiter", ["gofutures.wait", "gofutures.as_completed", "stdlib wait"])
@pytest.mark.parametrize("pool", ["thread", "process"])
def test_futures_cancelled_by_shutdown_count_as_done(pool, waiter, tmp_path):
    make = dict(pools())[pool]
    go = tmp_path / "go"
    ex = make()
    first = ex.submit(T.wait_for_file, str(go), 0)
    for _ in range(3000):               # the first task holds the only worker
        if first.running():
            break
        threading.Event().wait(0.01)
    queued = [ex.submit(T.identity, i) for i in range(1, 9)]
    ex.shutdown(wait=False, cancel_futures=True)
    # (a process pool may have handed the next tasks to the worker already)
    rest = [f for f in queued if f.cancelled()]
    assert len(rest) >= 5
    out = {}

    def body():
        if waiter == "gofutures.wait":
            done, not_done = gofutures.wait(rest)     # no timeout: would hang
            out["n"] = (len(done), len(not_done))
        elif waiter == "stdlib wait":
            done, not_done = _base.wait(rest)
            out["n"] = (len(done), len(not_done))
        else:
            out["n"] = (len(list(gofutures.as_completed(rest))), 0)

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(60)
    go.touch()
    assert not t.is_alive(), "wait() on futures cancelled by shutdown never returned"
    assert out["n"] == (len(rest), 0)
    assert first.result(timeout=60) == 0
    ex.shutdown(wait=True)
    assert {f._state for f in rest} == {"CANCELLED_AND_NOTIFIED"}
    assert all(f.result(timeout=0) == i + 1 for i, f in enumerate(queued) if f not in rest)


def test_the_stdlib_leaves_them_cancelled_and_not_done():
    """The defect being fixed, as the stdlib has it (so the test above
    tests a difference, not a coincidence)."""
    gate = threading.Event()
    ex = cf.ThreadPoolExecutor(1)
    ex.submit(gate.wait, 30)
    rest = [ex.submit(pow, 2, i) for i in range(3)]
    ex.shutdown(wait=False, cancel_futures=True)
    done, not_done = cf.wait(rest, timeout=0.2)
    gate.set()
    ex.shutdown(wait=True)
    assert len(not_done) == 3 and all(f._state == "CANCELLED" for f in rest)
