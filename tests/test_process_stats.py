"""Statistics of process pools (issue 8): exact figures for scripted
workloads, worker replacements after max_tasks_per_child and deaths."""
import pytest

import gofutures
import proc_tasks as T

pytestmark = pytest.mark.timeout(120)


def test_exact_counts_with_failures_and_cancellations():
    n, bad = 60, {3, 17, 41}
    ex = gofutures.ProcessPoolExecutor(1)
    ex.submit(T.sleep_then, 0, 1.0)   # holds the only worker
    fs = [ex.submit(T.raise_value_error, "x") if i in bad else ex.submit(T.square, i)
          for i in range(n)]
    before = ex.stats()
    cancelled = [f for f in fs[30:] if f.cancel()]
    assert cancelled   # queued behind the first task, so cancellable
    # counted as cancelled once cancel() returns, not when a worker gets to them
    now = ex.stats()
    assert now.cancelled - before.cancelled == len(cancelled)
    assert before.queued - now.queued >= len(cancelled)
    ex.shutdown(wait=True)
    s = ex.stats()
    done_ok = sum(1 for f in fs if not f.cancelled() and f.exception() is None) + 1
    assert s.kind == "process"
    assert (s.submitted, s.queued, s.running) == (n + 1, 0, 0)
    assert (s.completed, s.failed, s.cancelled) == (done_ok, len(bad - set(range(30, 60))) +
                                                    sum(1 for i in bad if i >= 30 and not fs[i].cancelled()),
                                                    len(cancelled))
    assert s.completed + s.failed + s.cancelled == s.submitted
    assert (s.workers_started, s.workers_alive, s.workers_died) == (1, 0, 0)


def test_replacements_after_max_tasks_per_child():
    import time
    with gofutures.ProcessPoolExecutor(1, max_tasks_per_child=2) as ex:
        pids = [ex.submit(T.pid).result() for _ in range(5)]
        # The first two workers retired (told to quit); their ends are counted
        # as they come, before the pool is shut down.
        deadline = time.monotonic() + 30
        while ex.stats().workers_replaced < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        s = ex.stats()
    assert len(set(pids)) == 3
    assert (s.workers_started, s.workers_replaced, s.workers_died, s.workers_alive) == (3, 2, 0, 1)
    assert s.completed == 5


def test_a_worker_death_is_counted():
    ex = gofutures.ProcessPoolExecutor(1)
    assert ex.submit(T.square, 2).result() == 4
    with pytest.raises(gofutures.BrokenProcessPool):
        ex.submit(T.exit_with, 3).result()
    ex.shutdown()
    s = ex.stats()
    assert (s.workers_started, s.workers_died, s.workers_alive) == (1, 1, 0)
    assert (s.completed, s.failed) == (1, 1)
