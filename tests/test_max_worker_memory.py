"""ProcessPoolExecutor(max_worker_memory=BYTES) (issue 18): a worker whose
resident set is above the bound after a task sends that task's outcome, exits
and is replaced, as with max_tasks_per_child; the exit is counted in stats()
as a replacement and never breaks the pool."""
import concurrent.futures as cf
import multiprocessing as mp
import sys
import time

import pytest

import gofutures
import proc_tasks as T

pytestmark = pytest.mark.timeout(180)

MiB = 1 << 20
BOUND = 30 * MiB   # a fresh worker keeps 14-16 MiB (spawn, forkserver)
METHODS = ["spawn", "forkserver"]


def _pool(method, n=1, **kw):
    return gofutures.ProcessPoolExecutor(n, mp_context=mp.get_context(method),
                                         max_worker_memory=BOUND, **kw)


def _replaced(ex, n):
    """stats() once n workers were replaced (a worker's end is counted when
    the pool sees its pipe close, just after its last result): bounded."""
    deadline = time.monotonic() + 30
    s = ex.stats()
    while s.workers_replaced < n and time.monotonic() < deadline:
        time.sleep(0.01)
        s = ex.stats()
    return s


@pytest.mark.parametrize("method", METHODS)
def test_a_heavy_task_retires_its_worker(method):
    with _pool(method) as ex:
        first = ex.submit(T.pid).result()
        assert ex.submit(T.rss).result() < BOUND
        # The task keeps 50 MiB: it runs where the others ran, its result
        # (large: sent after its header) arrives whole, then its worker goes.
        where, data = ex.submit(T.hoard, 50, 1 << 20).result()
        assert where == first and data == b"r" * (1 << 20)
        second = ex.submit(T.pid).result()
        assert second != first
        assert ex.submit(T.rss).result() < BOUND   # a fresh worker
        s = _replaced(ex, 1)
    assert (s.workers_started, s.workers_replaced, s.workers_died) == (2, 1, 0)
    assert (s.completed, s.failed) == (5, 0)


@pytest.mark.parametrize("method", METHODS)
def test_an_exception_is_sent_before_the_worker_retires(method):
    with _pool(method) as ex:
        first = ex.submit(T.pid).result()
        with pytest.raises(ValueError, match="hoarded 50 MiB in %d" % first):
            ex.submit(T.hoard_then_raise, 50).result()
        assert ex.submit(T.pid).result() != first
        s = _replaced(ex, 1)
    assert (s.workers_replaced, s.workers_died, s.failed) == (1, 0, 1)


def test_light_tasks_never_retire_the_worker():
    with _pool("spawn") as ex:
        pids = {ex.submit(T.pid).result() for _ in range(20)}
        pids |= set(ex.map(T.pid, range(200)))
        s = ex.stats()
    assert len(pids) == 1
    assert (s.workers_started, s.workers_replaced, s.workers_died) == (1, 0, 0)


def test_without_the_bound_a_heavy_worker_stays():
    # The same scenario with the option off: the stdlib's behaviour.
    with gofutures.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
        first = ex.submit(T.pid).result()
        assert ex.submit(T.hoard, 50).result()[0] == first
        assert ex.submit(T.pid).result() == first
        assert ex.stats().workers_replaced == 0


@pytest.mark.parametrize("method", METHODS)
def test_a_backlog_all_arrives_in_order_on_fresh_workers(method):
    # Each task keeps 8 MiB: every worker retires after a few, with tasks
    # prefetched behind its last one; those run on another worker, once.
    n = 24
    with _pool(method, 2) as ex:
        fs = [ex.submit(T.hoard, 8, i) for i in range(n)]
        got = [f.result() for f in fs]
        mapped = list(ex.map(T.square, range(50)))
        s = _replaced(ex, 2)
    assert [len(r) for _, r in got] == list(range(n))
    assert mapped == [i * i for i in range(50)]
    pids = {p for p, _ in got}
    assert len(pids) >= 4   # at most 3 tasks per worker: 14 + 3 * 8 > 30
    assert s.workers_replaced >= 2 and s.workers_died == 0
    assert (s.completed, s.failed, s.queued, s.running) == (n + 50, 0, 0, 0)


def test_combined_with_max_tasks_per_child_either_limit_retires():
    with _pool("spawn", max_tasks_per_child=3) as ex:
        a = ex.submit(T.pid).result()
        assert ex.submit(T.hoard, 50).result()[0] == a
        b = ex.submit(T.pid).result()        # the memory bound retired a (2 tasks)
        assert b != a
        assert [ex.submit(T.pid).result() for _ in range(2)] == [b, b]
        c = ex.submit(T.pid).result()        # the task count retired b (3 tasks)
        assert c not in (a, b)
        s = _replaced(ex, 2)
    assert (s.workers_started, s.workers_replaced, s.workers_died) == (3, 2, 0)


@pytest.mark.parametrize("cancel", [False, True])
def test_shutdown_with_a_retiring_worker(cancel):
    ex = _pool("spawn")
    first = ex.submit(T.sleep_then, 0, 0.5)
    heavy = ex.submit(T.hoard, 50)
    light = [ex.submit(T.square, i) for i in range(10)]
    first.result()
    ex.shutdown(wait=True, cancel_futures=cancel)
    assert heavy.result()[0] > 0
    for i, f in enumerate(light):
        assert f.done()
        if not f.cancelled():
            assert f.result() == i * i   # no BrokenProcessPool
    if not cancel:
        assert not any(f.cancelled() for f in light)
    s = ex.stats()
    assert s.workers_died == 0 and s.workers_alive == 0
    assert s.completed + s.cancelled == 12 and s.failed == 0


def test_cancel_of_queued_tasks_behind_a_retiring_worker():
    with _pool("spawn") as ex:
        hold = ex.submit(T.sleep_then, 0, 0.5)
        heavy = ex.submit(T.hoard, 50)
        queued = [ex.submit(T.square, i) for i in range(10)]
        cancelled = [f for f in queued if f.cancel()]
        assert cancelled   # far enough behind to be still queued
        hold.result()
        heavy.result()
        for f in queued:
            if f not in cancelled:
                assert f.result() is not None
        s = _replaced(ex, 1)
    assert s.workers_died == 0 and s.cancelled == len(cancelled)


def test_a_crash_after_a_retirement_still_breaks_the_pool():
    # The memory rule's exit is expected; a death afterwards is still one.
    ex = _pool("spawn")
    first = ex.submit(T.pid).result()
    assert ex.submit(T.hoard, 50).result()[0] == first
    assert ex.submit(T.pid).result() != first
    with pytest.raises(gofutures.BrokenProcessPool):
        ex.submit(T.exit_with, 3).result()
    ex.shutdown()
    s = ex.stats()
    assert (s.workers_started, s.workers_replaced, s.workers_died) == (2, 1, 1)


def test_with_task_timeout_the_tasks_behind_still_run():
    # Timed tasks prefetched behind a worker's last one are requeued with
    # their clocks not started: none times out, every result arrives.
    with _pool("spawn", 2, task_timeout=60) as ex:
        fs = [ex.submit(T.hoard, 8, i) for i in range(16)]
        assert [len(f.result()[1]) for f in fs] == list(range(16))
        s = _replaced(ex, 2)
    assert s.workers_died == 0 and (s.completed, s.failed) == (16, 0)


# -- the arguments -----------------------------------------------------------

@pytest.mark.parametrize("value, exc, msg", [
    ("30MB", TypeError, "max_worker_memory must be an integer"),
    (30e6, TypeError, "max_worker_memory must be an integer"),
    (0, ValueError, "max_worker_memory must be >= 1"),
    (-1, ValueError, "max_worker_memory must be >= 1"),
])
def test_bad_values(value, exc, msg):
    with pytest.raises(exc) as info:
        gofutures.ProcessPoolExecutor(1, max_worker_memory=value)
    assert str(info.value) == msg


@pytest.mark.skipif(sys.version_info < (3, 11), reason="max_tasks_per_child is 3.11+ in the stdlib")
@pytest.mark.parametrize("value", ["3", 3.0, 0, -1])
def test_bad_values_read_as_the_stdlibs_max_tasks_per_child(value):
    # Differential: the same exception and words as the stdlib's check of
    # max_tasks_per_child, with the option's name.
    def failure(make):
        with pytest.raises((TypeError, ValueError)) as info:
            make()
        return type(info.value), str(info.value)
    std = failure(lambda: cf.ProcessPoolExecutor(1, max_tasks_per_child=value))
    ours = failure(lambda: gofutures.ProcessPoolExecutor(1, max_worker_memory=value))
    assert ours == (std[0], std[1].replace("max_tasks_per_child", "max_worker_memory"))


def test_fork_is_refused_as_for_max_tasks_per_child():
    fork = mp.get_context("fork")
    with pytest.raises(ValueError) as ours:
        gofutures.ProcessPoolExecutor(1, mp_context=fork, max_worker_memory=BOUND)
    assert str(ours.value) == ("max_worker_memory is incompatible with the 'fork'"
                               " multiprocessing start method; supply a different mp_context.")
    if sys.version_info >= (3, 11):
        with pytest.raises(ValueError) as std:
            cf.ProcessPoolExecutor(1, mp_context=fork, max_tasks_per_child=1)
        assert str(ours.value) == str(std.value).replace("max_tasks_per_child", "max_worker_memory")


def test_spawn_by_default():
    ex = gofutures.ProcessPoolExecutor(1, max_worker_memory=BOUND)
    try:
        assert ex._mp_context.get_start_method() == "spawn"
        assert ex.submit(T.square, 3).result() == 9
    finally:
        ex.shutdown()


def test_none_is_the_default():
    with gofutures.ProcessPoolExecutor(1, max_worker_memory=None) as ex:
        assert ex.submit(T.square, 3).result() == 9
