"""ThreadPoolExecutor: the stdlib's behaviour, checked on both
implementations, plus gofutures-only checks of the Go scheduler."""
import concurrent.futures as cf
import gc
import os
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import weakref

import pytest

import gofutures
from conftest import GOFUTURES, STDLIB, norm_repr, outcome


def run_script(code, timeout=60):
    """Runs code in a fresh interpreter; returns (returncode, stdout, stderr)."""
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


# ---- constructor ---------------------------------------------------------------

@pytest.mark.parametrize("bad", [0, -1])
def test_max_workers_must_be_positive(impl, bad):
    with pytest.raises(ValueError, match="^max_workers must be greater than 0$"):
        impl.ThreadPoolExecutor(bad)


@pytest.mark.parametrize("bad", ["2", [], None.__class__])
def test_max_workers_bad_types_match_stdlib(bad):
    a = outcome(STDLIB.ThreadPoolExecutor, bad)
    b = outcome(GOFUTURES.ThreadPoolExecutor, bad)
    assert a[:2] == b[:2]


def test_float_max_workers_accepted(impl):
    with impl.ThreadPoolExecutor(1.5) as ex:
        assert ex.submit(abs, -3).result() == 3


def test_default_max_workers(impl):
    ex = impl.ThreadPoolExecutor()
    cpus = (getattr(os, "process_cpu_count", os.cpu_count)() or 1)
    assert ex._max_workers == min(32, cpus + 4)
    ex.shutdown()


def test_initializer_must_be_callable(impl):
    with pytest.raises(TypeError, match="^initializer must be a callable$"):
        impl.ThreadPoolExecutor(1, initializer=3)


def test_is_an_executor():
    ex = gofutures.ThreadPoolExecutor(1)
    assert isinstance(ex, cf.Executor)
    assert isinstance(ex, cf.ThreadPoolExecutor)
    ex.shutdown()


# ---- submit -----------------------------------------------------------------------

def test_submit_returns_gofutures_future():
    with gofutures.ThreadPoolExecutor(2) as ex:
        f = ex.submit(divmod, 7, 2)
        assert type(f) is gofutures.Future
        assert f.result() == (3, 1)


def test_submit_kwargs_and_positional_only_fn(impl):
    def g(fn=None, **kw):
        return fn, kw
    with impl.ThreadPoolExecutor(1) as ex:
        assert ex.submit(g, fn=1, self=2).result() == (1, {"self": 2})
        with pytest.raises(TypeError, match="missing 1 required positional argument: 'fn'"):
            ex.submit()


def test_non_callable_fails_the_future(impl):
    with impl.ThreadPoolExecutor(1) as ex:
        f = ex.submit(3)
        assert isinstance(f.exception(), TypeError)
        assert str(f.exception()) == "'int' object is not callable"


def test_task_exception_has_traceback(impl):
    def task():
        raise ValueError("in task")
    with impl.ThreadPoolExecutor(1) as ex:
        f = ex.submit(task)
        with pytest.raises(ValueError, match="in task") as ei:
            f.result()
    frames = [fr.f_code.co_name for fr, _ in traceback.walk_tb(ei.value.__traceback__)]
    assert "task" in frames


@pytest.mark.parametrize("exc", [SystemExit(2), KeyboardInterrupt(), GeneratorExit()])
def test_base_exceptions_become_the_futures_exception(impl, exc):
    def task():
        raise exc
    with impl.ThreadPoolExecutor(1) as ex:
        f = ex.submit(task)
        assert f.exception(timeout=10) is exc
        assert ex.submit(abs, -1).result(timeout=10) == 1  # the worker survived


def test_submit_after_shutdown(impl):
    ex = impl.ThreadPoolExecutor(1)
    ex.shutdown()
    with pytest.raises(RuntimeError, match="^cannot schedule new futures after shutdown$"):
        ex.submit(abs, 1)


def test_submit_after_interpreter_shutdown():
    for mod in ("concurrent.futures", "gofutures"):
        rc, out, err = run_script(f"""
            import atexit, {mod} as m
            ex = m.ThreadPoolExecutor(1)
            def late():
                try:
                    ex.submit(abs, 1)
                except RuntimeError as e:
                    print("RuntimeError:", e)
            atexit.register(late)
        """)
        assert rc == 0, err
        assert out.strip() == "RuntimeError: cannot schedule new futures after interpreter shutdown"


# ---- workers -----------------------------------------------------------------------------

def test_thread_names(impl):
    with impl.ThreadPoolExecutor(2, thread_name_prefix="pfx") as ex:
        assert ex.submit(lambda: threading.current_thread().name).result() == "pfx_0"
    with impl.ThreadPoolExecutor(1) as ex:
        name = ex.submit(lambda: threading.current_thread().name).result()
    assert name.startswith("ThreadPoolExecutor-") and name.endswith("_0")


def test_workers_are_real_threads(impl):
    local = threading.local()

    def task(v):
        local.v = getattr(local, "v", v)
        t = threading.current_thread()
        return t.ident == threading.get_ident(), t in threading.enumerate(), t.daemon, local.v
    with impl.ThreadPoolExecutor(1) as ex:
        first = ex.submit(task, "a").result()
        second = ex.submit(task, "b").result()
    assert first == (True, True, False, "a")
    assert second[3] == "a"   # same worker, same thread-local


def test_idle_workers_are_reused(impl):
    with impl.ThreadPoolExecutor(8) as ex:
        for i in range(20):
            ex.submit(abs, i).result()
        time.sleep(0.05)
        ex.submit(abs, 1).result()
        assert len(ex._threads) <= 2


def test_workers_created_up_to_max(impl):
    barrier = threading.Barrier(4, timeout=30)
    with impl.ThreadPoolExecutor(4) as ex:
        fs = [ex.submit(barrier.wait) for _ in range(4)]
        assert sorted(f.result(timeout=30) for f in fs) == [0, 1, 2, 3]
        assert len(ex._threads) == 4


def test_gil_releasing_tasks_run_in_parallel(impl):
    # Both tasks block (GIL released) until the other one is running too.
    barrier = threading.Barrier(2, timeout=30)
    with impl.ThreadPoolExecutor(2) as ex:
        fs = [ex.submit(barrier.wait) for _ in range(2)]
        assert sorted(f.result(timeout=30) for f in fs) == [0, 1]


def test_task_can_submit_to_same_pool(impl):
    with impl.ThreadPoolExecutor(2) as ex:
        def outer(n):
            return ex.submit(pow, 2, n).result(timeout=30) + 1
        assert ex.submit(outer, 5).result(timeout=30) == 33


def test_initializer_and_initargs(impl):
    seen = []

    def init(*a):
        seen.append((threading.current_thread().name, a))
    with impl.ThreadPoolExecutor(1, thread_name_prefix="i", initializer=init, initargs=(1, 2)) as ex:
        ex.submit(abs, 1).result()
    assert seen == [("i_0", (1, 2))]


def test_failing_initializer_breaks_the_pool(impl, caplog):
    gate = threading.Event()

    def init():
        gate.wait(30)
        raise OSError("init failed")
    ex = impl.ThreadPoolExecutor(1, initializer=init)
    fs = [ex.submit(abs, i) for i in range(3)]
    gate.set()
    for f in fs:
        with pytest.raises(cf.BrokenExecutor) as ei:
            f.result(timeout=30)
        assert type(ei.value) is gofutures.BrokenThreadPool
        assert str(ei.value) == "A thread initializer failed, the thread pool is not usable anymore"
    with pytest.raises(gofutures.BrokenThreadPool):
        ex.submit(abs, 1)
    ex.shutdown()
    assert any("Exception in initializer:" in r.getMessage() for r in caplog.records)


# ---- map ------------------------------------------------------------------------------

def test_map_in_order(impl):
    with impl.ThreadPoolExecutor(4) as ex:
        assert list(ex.map(pow, range(10), range(10))) == [pow(i, i) for i in range(10)]
        assert list(ex.map(abs, [])) == []
        assert list(ex.map(pow, [2, 3], [5])) == [32]


def test_map_submits_eagerly_and_yields_lazily(impl):
    started = []
    gate = threading.Event()

    def task(i):
        started.append(i)
        if i == 0:
            gate.wait(30)
        return i
    with impl.ThreadPoolExecutor(4) as ex:
        it = ex.map(task, range(4))
        deadline = time.monotonic() + 30
        while len(started) < 4 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert sorted(started) == [0, 1, 2, 3]
        gate.set()
        assert list(it) == [0, 1, 2, 3]


def test_map_exception_at_its_position(impl):
    def task(i):
        if i == 2:
            raise ValueError(i)
        return i
    with impl.ThreadPoolExecutor(2) as ex:
        it = ex.map(task, range(5))
        assert next(it) == 0
        assert next(it) == 1
        with pytest.raises(ValueError):
            next(it)
        assert list(it) == []


def test_map_timeout_counted_from_the_call(impl):
    gate = threading.Event()
    with impl.ThreadPoolExecutor(1) as ex:
        it = ex.map(gate.wait, [30, 30], timeout=0.1)
        time.sleep(0.2)
        with pytest.raises(cf.TimeoutError):
            next(it)
        gate.set()


def test_map_close_cancels_the_rest(impl):
    gate = threading.Event()
    with impl.ThreadPoolExecutor(1) as ex:
        blocker = ex.submit(gate.wait, 30)
        it = ex.map(abs, range(5))
        submitted_after = ex.submit(abs, 1)
        it.close() if hasattr(it, "close") else None
        del it
        gc.collect()
        gate.set()
        assert blocker.result(timeout=30) is True
        assert submitted_after.result(timeout=30) == 1


def test_map_non_iterable(impl):
    with impl.ThreadPoolExecutor(1) as ex:
        a = outcome(ex.map, abs, 5)
    assert a[:2] == ("raise", "TypeError")


# ---- shutdown ------------------------------------------------------------------------------

def test_shutdown_waits_for_running_and_queued(impl):
    done = []
    ex = impl.ThreadPoolExecutor(1)
    for i in range(5):
        ex.submit(lambda i=i: (time.sleep(0.01), done.append(i)))
    ex.shutdown(wait=True)
    assert done == [0, 1, 2, 3, 4]
    assert all(not t.is_alive() for t in ex._threads)


def test_shutdown_cancel_futures(impl):
    gate = threading.Event()
    ex = impl.ThreadPoolExecutor(1)
    running = ex.submit(gate.wait, 30)
    while not running.running():
        time.sleep(0.001)
    queued = [ex.submit(abs, i) for i in range(5)]
    seen = []
    queued[0].add_done_callback(seen.append)
    ex.shutdown(wait=False, cancel_futures=True)
    gate.set()
    assert running.result(timeout=30) is True
    assert all(f.cancelled() for f in queued)
    assert seen == [queued[0]]
    done, not_done = impl.wait(queued, timeout=0)
    if impl.name == "stdlib":
        # cancelled by shutdown but never notified: the stdlib's wait() does not count them
        assert not done and not_done == set(queued)
    else:
        # gofutures fixes that (issue 18): they are notified as they are cancelled
        assert done == set(queued) and not not_done
    ex.shutdown()


def test_context_manager(impl):
    with impl.ThreadPoolExecutor(2) as ex:
        f = ex.submit(time.sleep, 0.05)
    assert f.done()
    with pytest.raises(RuntimeError):
        ex.submit(abs, 1)


def test_shutdown_twice_is_fine(impl):
    ex = impl.ThreadPoolExecutor(1)
    ex.submit(abs, 1)
    ex.shutdown()
    ex.shutdown(wait=False)


def test_dropped_executor_lets_workers_exit(impl):
    ex = impl.ThreadPoolExecutor(3)
    for f in [ex.submit(abs, i) for i in range(3)]:
        f.result()
    threads = list(ex._threads)
    r = weakref.ref(ex)
    del ex
    gc.collect()
    assert r() is None
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive()


# ---- interpreter exit -------------------------------------------------------------------------

@pytest.mark.parametrize("mod", ["concurrent.futures", "gofutures"])
def test_exit_with_queued_work_finishes_it(mod):
    rc, out, err = run_script(f"""
        import sys, time, {mod} as m
        ex = m.ThreadPoolExecutor(2)
        for i in range(6):
            ex.submit(lambda i=i: (time.sleep(0.02), sys.stdout.write("done %d\\n" % i)))
        sys.stdout.write("exiting\\n")
    """)
    assert rc == 0 and err == ""
    assert sorted(out.splitlines()) == ["done %d" % i for i in range(6)] + ["exiting"]


@pytest.mark.parametrize("mod", ["concurrent.futures", "gofutures"])
def test_exit_with_idle_pool_and_no_shutdown(mod):
    rc, out, err = run_script(f"""
        import {mod} as m
        ex = m.ThreadPoolExecutor(4)
        print(sum(f.result() for f in [ex.submit(abs, -i) for i in range(100)]))
    """)
    assert (rc, out, err) == (0, "4950\n", "")


# ---- stress -----------------------------------------------------------------------------------

def test_many_submitters_every_result_exactly_once():
    n_threads, per_thread = 8, 2000
    results = []
    lock = threading.Lock()
    with gofutures.ThreadPoolExecutor(4) as ex:
        def producer(k):
            fs = [ex.submit(lambda i=i: (k, i)) for i in range(per_thread)]
            got = [f.result(timeout=60) for f in fs]
            with lock:
                results.extend(got)
        ts = [threading.Thread(target=producer, args=(k,)) for k in range(n_threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    assert sorted(results) == [(k, i) for k in range(n_threads) for i in range(per_thread)]


def test_no_go_handles_left_after_shutdown():
    ext = gofutures._ext.load()
    gc.collect()
    before = ext.debug_counts()["handles"]
    ex = gofutures.ThreadPoolExecutor(4)
    fs = [ex.submit(abs, i) for i in range(1000)]
    gofutures.wait(fs)
    ex.shutdown(wait=True)
    del ex, fs
    gc.collect()
    assert ext.debug_counts()["handles"] == before


def test_worker_running_c_tasks_does_not_starve_other_threads():
    # A queue of tasks that are C calls never reaches the eval loop's switch
    # check; the worker must still hand the GIL over (at its switch points)
    # to a thread that releases it for a syscall, long before the queue drains.
    ex = gofutures.ThreadPoolExecutor(1)
    try:
        r = range(5000)   # sum(r): one C call, long enough that 100,000 outlast the checks
        gate = ex.submit(time.sleep, 0.5)
        fs = [ex.submit(sum, r) for i in range(100_000)]
        gate.result()
        for _ in range(5):
            os.stat(".")   # releases and retakes the GIL
        assert not fs[-1].done(), "the main thread only ran once the queue was drained"
    finally:
        ex.shutdown(cancel_futures=True)
