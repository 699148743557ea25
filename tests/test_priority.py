"""submit_with_priority (issue 18): among queued tasks, lower numbers run
first, ties in submission order; submit() is priority 0. The Go scheduler
keeps the order (core/threadpool.go, core/procpool.go); these tests watch
it from Python: a one-worker pool is held busy on an Event while tasks of
mixed priorities queue up, then released, and the order the tasks start in
is recorded."""
import concurrent.futures as cf
import multiprocessing as mp
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gofutures

import prio_tasks
import proc_tasks
from conftest import forked


def stable_order(prios):
    return sorted(range(len(prios)), key=lambda i: prios[i])


def held_thread_pool(**kw):
    """A 1-worker thread pool whose worker is busy until the returned Event
    is set (the blocker has started when this returns)."""
    ex = gofutures.ThreadPoolExecutor(1, **kw)
    started, gate = threading.Event(), threading.Event()

    def block():
        started.set()
        assert gate.wait(60)

    blocker = ex.submit(block)
    assert started.wait(60)
    return ex, gate, blocker


def run_in_order(prios, plain_zero=False):
    """Submits one task per priority to a held pool; returns the order they
    ran in (task indices)."""
    ex, gate, blocker = held_thread_pool()
    ran = []
    fs = []
    for i, p in enumerate(prios):
        if plain_zero and p == 0 and i % 2:
            fs.append(ex.submit(ran.append, i))
        else:
            fs.append(ex.submit_with_priority(p, ran.append, i))
    gate.set()
    cf.wait(fs + [blocker], timeout=60)
    ex.shutdown()
    return ran


def test_thread_pool_runs_lower_numbers_first_ties_in_submission_order():
    prios = [5, 0, -3, 5, 1, -3, 0, 2 ** 63 - 1, -2 ** 63]
    ran = run_in_order(prios)
    assert ran == [8, 2, 5, 1, 6, 4, 0, 3, 7]
    assert ran == stable_order(prios)


def test_plain_submit_is_priority_zero():
    prios = [1, 0, -1, 0, 0, 2, 0]
    assert run_in_order(prios, plain_zero=True) == stable_order(prios)


def test_without_priorities_the_order_stays_fifo():
    ex, gate, _ = held_thread_pool()
    ran = []
    fs = [ex.submit(ran.append, i) for i in range(20)]
    gate.set()
    cf.wait(fs, timeout=60)
    ex.shutdown()
    assert ran == list(range(20))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.integers(-3, 3), st.integers(-2 ** 63, 2 ** 63 - 1)), max_size=40),
       st.booleans())
def test_thread_pool_run_order_is_a_stable_sort(prios, plain_zero):
    assert run_in_order(prios, plain_zero) == stable_order(prios)


def test_cancel_a_queued_priority_task():
    ex, gate, _ = held_thread_pool()
    ran = []
    a = ex.submit_with_priority(2, ran.append, "a")
    b = ex.submit_with_priority(1, ran.append, "b")
    c = ex.submit_with_priority(-1, ran.append, "c")
    assert b.cancel() and b.cancelled()
    gate.set()
    cf.wait([a, c], timeout=60)
    ex.shutdown()
    assert ran == ["c", "a"]
    assert ex.stats().cancelled == 1


def test_shutdown_cancel_futures_cancels_queued_priority_tasks():
    ex, gate, blocker = held_thread_pool()
    ran = []
    fs = [ex.submit_with_priority(p, ran.append, p) for p in (3, -1, 0)]
    fs.append(ex.submit(ran.append, "plain"))
    assert ex.stats().queued == 4
    ex.shutdown(wait=False, cancel_futures=True)
    gate.set()
    done, not_done = cf.wait(fs, timeout=60)
    assert not not_done and all(f.cancelled() for f in fs)
    ex.shutdown()
    assert blocker.result() is None and ran == []
    with pytest.raises(RuntimeError):
        ex.submit_with_priority(0, ran.append, 1)


def test_max_pending_gates_priority_submits():
    ex, gate, blocker = held_thread_pool(max_pending=3, pending_timeout=0.05)
    ran = []
    a = ex.submit_with_priority(5, ran.append, "a")
    b = ex.submit_with_priority(-5, ran.append, "b")
    # The blocker and two queued tasks hold the three slots.
    with pytest.raises(cf.TimeoutError):
        ex.submit_with_priority(-9, ran.append, "rejected")
    assert ex.stats().submitted == 3   # the rejected one was not submitted
    gate.set()
    cf.wait([a, b], timeout=60)
    c = ex.submit_with_priority(0, ran.append, "c")
    c.result(timeout=60)
    ex.shutdown()
    assert ran == ["b", "a", "c"]


def test_stats_count_priority_tasks():
    ex, gate, _ = held_thread_pool()
    fs = [ex.submit_with_priority(p, abs, p) for p in (2, 1, 0)]
    s = ex.stats()
    assert (s.submitted, s.queued) == (4, 3)
    gate.set()
    assert [f.result(timeout=60) for f in fs] == [2, 1, 0]
    ex.shutdown()
    assert ex.stats().completed == 4


def test_fn_keywords_named_priority_and_fn_pass_through():
    with gofutures.ThreadPoolExecutor(1) as ex:
        f = ex.submit_with_priority(1, dict, priority=7, fn=8)
        assert f.result(timeout=60) == {"priority": 7, "fn": 8}


class _Index:
    def __index__(self):
        return -4


@pytest.mark.parametrize("Pool", ["thread", "process"])
def test_bad_priority_submits_nothing(Pool):
    if Pool == "thread":
        ex = gofutures.ThreadPoolExecutor(1)
    else:
        ex = gofutures.ProcessPoolExecutor(1)
    with ex:
        for bad in (1.0, "1", None, 1j, [1]):
            with pytest.raises(TypeError, match="priority must be an integer"):
                ex.submit_with_priority(bad, abs, 1)
        for big in (2 ** 63, -2 ** 63 - 1, 10 ** 100):
            with pytest.raises(OverflowError, match="signed 64-bit"):
                ex.submit_with_priority(big, abs, 1)
        with pytest.raises(TypeError, match="missing required positional"):
            ex.submit_with_priority(1)
        with pytest.raises(TypeError):
            ex.submit_with_priority()
        assert ex.stats().submitted == 0
        # What operator.index() takes is an int (bool included).
        assert ex.submit_with_priority(_Index(), abs, -1).result(timeout=60) == 1
        assert ex.submit_with_priority(True, abs, -2).result(timeout=60) == 2
        assert ex.stats().submitted == 2


# -- the process pool --------------------------------------------------------

def held_process_pool(**kw):
    ctx = mp.get_context()
    gate, log = ctx.Event(), ctx.Queue()
    ex = gofutures.ProcessPoolExecutor(1, mp_context=ctx, initializer=prio_tasks.init,
                                       initargs=(gate, log), **kw)
    blocker = ex.submit(prio_tasks.block)
    assert log.get(timeout=60) == "started"
    return ex, gate, log, blocker


def test_process_pool_dispatches_by_priority_after_the_call_queue():
    """Up to max_workers + 1 calls are started ahead (the stdlib's call
    queue, RUNNING); priorities order the rest."""
    ex, gate, log, blocker = held_process_pool()
    prios = [3, 0, 3, -1, 7, 0, -2, 1, -1, 5]
    fs = [ex.submit_with_priority(p, prio_tasks.record, i) for i, p in enumerate(prios)]
    ahead = [i for i, f in enumerate(fs) if f.running()]
    rest = [i for i, f in enumerate(fs) if not f.running()]
    assert len(ahead) <= 2 and len(rest) >= 8
    gate.set()
    assert blocker.result(timeout=60) == "blocker"
    assert [f.result(timeout=60) for f in fs] == list(range(len(prios)))
    ran = [log.get(timeout=60) for _ in fs]
    ex.shutdown()
    assert ran == ahead + sorted(rest, key=lambda i: prios[i])


def test_process_pool_cancel_and_shutdown_cancel_futures():
    ex, gate, log, blocker = held_process_pool()
    fs = [ex.submit_with_priority(p, prio_tasks.record, p) for p in (9, 8, 7, -1, 1)]
    queued = [f for f in fs if not f.running()]
    assert len(queued) >= 3
    assert queued[0].cancel()
    ex.shutdown(wait=False, cancel_futures=True)
    gate.set()
    done, not_done = cf.wait(fs, timeout=60)
    assert not not_done
    assert all(f.cancelled() for f in queued)
    ex.shutdown()
    s = ex.stats()
    assert s.cancelled == len(queued) and s.queued == 0


def test_process_pool_priority_tasks_honour_task_timeout():
    with gofutures.ProcessPoolExecutor(1, task_timeout=0.5) as ex:
        slow = ex.submit_with_priority(-1, proc_tasks.sleep_then, "slow", 60)
        fast = ex.submit_with_priority(1, proc_tasks.identity, "fast")
        with pytest.raises(cf.TimeoutError):
            slow.result(timeout=60)
        assert fast.result(timeout=60) == "fast"


def test_process_pool_max_pending_gates_priority_submits():
    ex, gate, log, blocker = held_process_pool(max_pending=2, pending_timeout=0.05)
    a = ex.submit_with_priority(0, prio_tasks.record, "a")
    # The blocker and a hold the two slots.
    with pytest.raises(cf.TimeoutError):
        ex.submit_with_priority(-1, prio_tasks.record, "rejected")
    assert ex.stats().submitted == 2
    gate.set()
    assert a.result(timeout=60) == "a"
    assert ex.submit_with_priority(-1, prio_tasks.record, "b").result(timeout=60) == "b"
    ex.shutdown()
    assert [log.get(timeout=60) for _ in range(2)] == ["a", "b"]


def test_a_child_forked_after_the_engine_loaded_checks_and_submits_in_fifo():
    """There the stdlib's pool stands in (_fork.py): the priority is checked
    the same way, and the call runs (in the stdlib's FIFO order)."""
    with gofutures.ThreadPoolExecutor(1) as ex:   # the engine is loaded and running
        ex.submit(abs, 1).result()

    def child():
        with gofutures.ThreadPoolExecutor(1) as c:
            ok = c.submit_with_priority(-1, abs, -3).result(timeout=30) == 3
            for bad, exc in ((1.5, TypeError), (2 ** 63, OverflowError)):
                try:
                    c.submit_with_priority(bad, abs, 1)
                    ok = False
                except exc:
                    pass
        return 0 if ok else 2
    reported, exitcode = forked(child)
    assert reported == b"\x00" and exitcode == 0
