"""gofutures' process-pool additions (issue 9): per-task timeouts,
terminate_workers()/kill_workers() on every Python, and a BrokenProcessPool
that says which worker died and how."""
import math
import multiprocessing as mp
import signal
import sys
import time

import pytest

import gofutures
import proc_tasks as T

pytestmark = pytest.mark.timeout(120)


def cause_text(exc):
    return str(exc.__cause__) if exc.__cause__ is not None else ""


def died(pid, code):
    """How a broken pool's cause says worker pid ended with exit code code:
    3.15's stdlib words (gh-139462), gofutures' own before (the stdlib says
    nothing there)."""
    if sys.version_info >= (3, 15):
        return "Process %d terminated abruptly with exit code %d" % (pid, code)
    how = "exit code %d" % code if code >= 0 else "signal " + signal.Signals(-code).name
    return "worker process %d terminated abruptly with %s" % (pid, how)


# On every start method: forkserver workers (the default from 3.14) are not
# the pool's children, so only multiprocessing knows their exit status.
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
@pytest.mark.parametrize("task,args,code", [
    (T.exit_with, (3,), 3),
    (T.kill_self, (), -signal.SIGKILL),
    (T.segfault, (), -signal.SIGSEGV),
])
def test_broken_pool_says_which_worker_died_and_how(task, args, code, method):
    with gofutures.ProcessPoolExecutor(1, mp_context=mp.get_context(method)) as ex:
        wpid = ex.submit(T.pid).result()
        f = ex.submit(task, *args)
        with pytest.raises(gofutures.BrokenProcessPool) as ei:
            f.result(timeout=60)
        # The stdlib's message, unchanged; the details are in the cause.
        assert str(ei.value) == ("A process in the process pool was terminated abruptly "
                                 "while the future was running or pending.")
        assert died(wpid, code) in cause_text(ei.value)
        with pytest.raises(gofutures.BrokenProcessPool) as ei2:
            ex.submit(T.square, 1)
        assert died(wpid, code) in cause_text(ei2.value)


def _gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] == "Z" and False
    except FileNotFoundError:
        return True


def test_hung_task_times_out_and_the_pool_carries_on():
    with gofutures.ProcessPoolExecutor(2) as ex:
        before = set(ex.map(T.pid, range(8)))
        hung = ex.submit_with_timeout(0.5, T.sleep_forever)
        others = [ex.submit(T.sleep_then, i, 0.05) for i in range(6)]
        with pytest.raises(gofutures.TimeoutError) as ei:
            hung.result(timeout=30)
        assert "ran past its timeout" in str(ei.value)
        assert [f.result(timeout=30) for f in others] == list(range(6))
        # The killed worker is replaced, and reaped (no zombie left).
        assert ex.submit(T.square, 9).result(timeout=30) == 81
        killed = [int(w) for w in str(ei.value).split() if w.isdigit()][-1]
        assert killed in before
        deadline = time.monotonic() + 10
        while not _gone(killed) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(killed)


def test_tasks_behind_a_hung_timed_task_run_once_each(tmp_path):
    # One worker and a backlog: timed tasks are prefetched like any other, so
    # tasks wait on the worker behind the one that hangs. When it is killed,
    # they run on the replacement: none lost, none failed, none run twice.
    log = tmp_path / "runs"
    with gofutures.ProcessPoolExecutor(1, task_timeout=1.0) as ex:
        fs = [ex.submit(T.record, str(log), i, 3600 if i == 3 else 0) for i in range(12)]
        for i, f in enumerate(fs):
            if i == 3:
                with pytest.raises(gofutures.TimeoutError):
                    f.result(timeout=60)
            else:
                assert f.result(timeout=60) == i
    assert sorted(int(x) for x in log.read_text().split()) == list(range(12))


def test_task_in_time_is_unaffected():
    with gofutures.ProcessPoolExecutor(1) as ex:
        assert ex.submit_with_timeout(30, T.add, 1, 2, c=3).result() == 6
        # fn's own `timeout` keyword goes to fn, not to the pool.
        assert ex.submit_with_timeout(30, dict, timeout=5).result() == {"timeout": 5}


def test_pool_wide_task_timeout_in_map():
    with gofutures.ProcessPoolExecutor(2, task_timeout=1.0) as ex:
        it = ex.map(T.sleep_then, [1, 2, 3], [0.0, 60.0, 0.0])
        assert next(it) == 1
        with pytest.raises(gofutures.TimeoutError):
            next(it)


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-1, ValueError), (math.nan, ValueError),
                                     ("1", TypeError), (None, TypeError)])
def test_bad_timeouts(bad, exc):
    with gofutures.ProcessPoolExecutor(1) as ex:
        with pytest.raises(exc):
            ex.submit_with_timeout(bad, T.square, 1)
    if exc is ValueError and bad == bad:
        with pytest.raises(ValueError):
            gofutures.ProcessPoolExecutor(1, task_timeout=bad)


def test_timed_task_can_be_cancelled_while_queued_and_shutdown_waits():
    ex = gofutures.ProcessPoolExecutor(1)
    first = ex.submit(T.sleep_then, 1, 0.3)
    ahead = ex.submit(T.square, 2)   # RUNNING in the call queue (max_workers + 1), as the stdlib's
    timed = ex.submit_with_timeout(5, T.square, 3)
    assert timed.cancel()
    ex.shutdown(wait=True)
    assert first.result() == 1 and ahead.result() == 4 and timed.cancelled()


@pytest.mark.parametrize("method", ["terminate_workers", "kill_workers"])
def test_terminate_and_kill_workers(method):
    ex = gofutures.ProcessPoolExecutor(1)
    running = ex.submit(T.sleep_then, 1, 60)
    queued = [ex.submit(T.square, i) for i in range(5)]
    deadline = time.monotonic() + 30
    while not running.running() and time.monotonic() < deadline:
        time.sleep(0.01)
    procs = list(ex._processes.values())
    getattr(ex, method)()
    with pytest.raises(gofutures.BrokenProcessPool) as ei:
        running.result(timeout=30)
    sig = signal.SIGTERM if method == "terminate_workers" else signal.SIGKILL
    assert died(procs[0].pid, -sig) in cause_text(ei.value)
    assert all(f.cancelled() or isinstance(f.exception(timeout=30), gofutures.BrokenProcessPool)
               for f in queued)
    with pytest.raises((RuntimeError, gofutures.BrokenProcessPool)):
        ex.submit(T.square, 1)
    ex.shutdown(wait=True)
    for p in procs:
        p.join(10)
        assert p.exitcode == (-signal.SIGTERM if method == "terminate_workers" else -signal.SIGKILL)


def test_terminate_workers_on_an_unused_pool():
    ex = gofutures.ProcessPoolExecutor(1)
    ex.terminate_workers()
    with pytest.raises(RuntimeError):
        ex.submit(T.square, 1)
