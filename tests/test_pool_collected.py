"""A process pool garbage-collected (or shut down without waiting, then
collected) while its only worker retires at max_tasks_per_child with calls
queued behind it (gh-152967, gh-119592).

From 3.14 the stdlib starts no replacement for a collected executor: the
queued calls fail with BrokenProcessPool and its "garbage collected"
message. On 3.9-3.13 its manager thread then waits for ever (those calls
never finish); gofutures runs them there, as it does for a live executor.
Run on both pools where the stdlib's behaviour can be waited for."""
import concurrent.futures
import multiprocessing as mp
import sys
import weakref

import pytest

import gofutures
from conftest import collect_until_gone

pytestmark = pytest.mark.timeout(120)

STDLIB_BREAKS = sys.version_info >= (3, 14)

_events = None


def keep_events(started, gate):
    global _events
    _events = (started, gate)


def report_wait_return(value):
    started, gate = _events
    started.set()
    gate.wait(60)
    return value


def pools():
    yield gofutures.ProcessPoolExecutor
    if STDLIB_BREAKS:   # (before, the stdlib's would hang)
        yield concurrent.futures.ProcessPoolExecutor


@pytest.mark.parametrize("shutdown_first", [False, True])
@pytest.mark.parametrize("pool", list(pools()), ids=lambda c: c.__module__.split(".")[0])
def test_collected_pool_with_a_retiring_worker(pool, shutdown_first):
    ctx = mp.get_context("spawn")
    started, gate = ctx.Event(), ctx.Event()
    ex = pool(1, mp_context=ctx, max_tasks_per_child=1,
              initializer=keep_events, initargs=(started, gate))
    fs = [ex.submit(report_wait_return, i) for i in range(3)]
    service = ex._executor_manager_thread
    # The worker runs the first call: it retires only after the executor
    # is gone.
    assert started.wait(60)
    if shutdown_first:
        ex.shutdown(wait=False)
    ref = weakref.ref(ex)
    del ex
    collect_until_gone(ref)
    assert ref() is None
    gate.set()
    assert fs[0].result(timeout=60) == 0
    if STDLIB_BREAKS:
        for f in fs[1:]:
            with pytest.raises(concurrent.futures.process.BrokenProcessPool, match="garbage collected"):
                f.result(timeout=60)
    else:
        assert [f.result(timeout=60) for f in fs[1:]] == [1, 2]
    service.join(60)
    assert not service.is_alive()


def test_shut_down_pool_still_replaces_its_retiring_worker():
    # Not collected: shutdown(wait=False) lets the queued calls run on a
    # replacement (gh-119592), on every version.
    ctx = mp.get_context("spawn")
    started, gate = ctx.Event(), ctx.Event()
    ex = gofutures.ProcessPoolExecutor(1, mp_context=ctx, max_tasks_per_child=1,
                                       initializer=keep_events, initargs=(started, gate))
    fs = [ex.submit(report_wait_return, i) for i in range(3)]
    assert started.wait(60)
    ex.shutdown(wait=False)
    gate.set()
    assert [f.result(timeout=60) for f in fs] == [0, 1, 2]
    ex.shutdown(wait=True)
