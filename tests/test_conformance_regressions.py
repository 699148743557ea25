"""Regression tests for the bugs CPython's own test suite (run by the
conformance runner) found in gofutures, each on the stdlib and on gofutures."""
import concurrent.futures as cf
import concurrent.futures._base as cf_base
import concurrent.futures.thread as cf_thread
import gc
import os
import subprocess
import sys
import textwrap
import threading
import weakref

import pytest

import gofutures


@pytest.fixture(params=["stdlib", "gofutures"])
def TPE(request):
    return cf_thread.ThreadPoolExecutor if request.param == "stdlib" else gofutures.ThreadPoolExecutor


def test_map_result_discarded_still_runs_everything(TPE):
    # bpo-11777: the stdlib's map generator cancels nothing until started.
    finished = []
    ex = TPE(2)
    ex.map(finished.append, range(20))
    gc.collect()
    ex.shutdown(wait=True)
    assert sorted(finished) == list(range(20))


def test_map_started_then_dropped_cancels_the_rest(TPE):
    gate = threading.Event()
    ran = []

    def task(x):
        if x:
            gate.wait(30)
        ran.append(x)

    with TPE(1) as ex:
        it = ex.map(task, range(5))
        next(it)
        del it
        gc.collect()
        gate.set()
    assert ran in ([0], [0, 1])   # 1 may have started; 2, 3, 4 were cancelled


def _as_completed_of(impl):
    return cf_base.as_completed if impl == "stdlib" else gofutures.as_completed


@pytest.mark.parametrize("impl", ["stdlib", "gofutures"])
@pytest.mark.parametrize("kind", ["stdlib", "gofutures"])
def test_as_completed_keeps_no_yielded_future_alive(impl, kind):
    # bpo-14406, with both kinds of future (gofutures' and foreign ones).
    make = cf.Future if kind == "stdlib" else gofutures.Future
    fs = [make() for _ in range(6)]
    fs[0].set_result(1)
    fs[1].cancel()
    fs[1].set_running_or_notify_cancel()
    it = _as_completed_of(impl)(fs, timeout=30)
    for n in range(6):
        if n >= 2:
            fs[0].set_result(n)
        f = next(it)
        fs.remove(f)
        ref = weakref.ref(f)
        del f
        gc.collect()
        assert ref() is None
    with pytest.raises(StopIteration):
        next(it)


def test_idle_worker_is_reused(TPE):
    # CPython's test_idle_thread_reuse, many times over.
    for _ in range(50):
        ex = TPE()
        for n in range(4):
            assert ex.submit(pow, 2, n).result() == 2 ** n
        assert len(ex._threads) == 1
        ex.shutdown()


def test_broken_flag_follows_a_failing_initializer(TPE):
    def boom():
        raise ValueError("no")
    ex = TPE(1, initializer=boom)
    assert ex._broken is False
    with pytest.raises(cf.BrokenExecutor):
        ex.submit(int).result(timeout=30)
    assert ex._broken == "A thread initializer failed, the thread pool is not usable anymore"
    with pytest.raises(cf.BrokenExecutor):
        ex.submit(int)
    ex.shutdown()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_exits_after_the_parent_used_a_pool():
    # bpo-45021's scenario: a fork-context process pool started while a
    # gofutures pool is busy; the child's exit must not enter Go.
    code = textwrap.dedent("""
        import multiprocessing as mp, concurrent.futures as cf, gofutures
        def again(pool):
            pool.submit(again, pool)
        with gofutures.ThreadPoolExecutor(1) as pool:
            pool.submit(again, pool)
            for _ in range(50):
                with cf.ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as p:
                    assert p.submit(abs, -4).result(timeout=30) == 4
            pool.shutdown(wait=False, cancel_futures=True)
        print("ok")
    """)
    p = subprocess.run([sys.executable, "-W", "ignore::DeprecationWarning", "-c", code],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.split() == ["ok"], p.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_forgets_the_parents_pools():
    # What makes the scenario above deterministic: the child's exit hook
    # finds no pool to stop, so it never calls into Go.
    code = textwrap.dedent("""
        import os, gofutures, gofutures.thread as t
        ex = gofutures.ThreadPoolExecutor(2)
        ex.submit(abs, 1).result()
        pid = os.fork()
        if pid == 0:
            os._exit(10 + len(t._pools))
        _, status = os.waitpid(pid, 0)
        print(len(t._pools), os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)
        ex.shutdown()
    """)
    p = subprocess.run([sys.executable, "-W", "ignore::DeprecationWarning", "-c", code],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["1", "10"]
