"""ProcessPoolExecutor: differential tests against the stdlib, on the fork
and spawn start methods. Each scenario runs on concurrent.futures and on
gofutures and the outcomes (values, exception types and messages) must
agree."""
import asyncio
import concurrent.futures as cf
import gc
import multiprocessing as mp
import os
import sys
import threading
import time

import pytest

import gofutures
import proc_tasks as T
from conftest import outcome

pytestmark = pytest.mark.timeout(120)

PY311 = sys.version_info >= (3, 11)
IMPLS = {"stdlib": cf.ProcessPoolExecutor, "gofutures": gofutures.ProcessPoolExecutor}


@pytest.fixture(params=["fork", "spawn"])
def ctx(request):
    return mp.get_context(request.param)


def both(scenario, *args):
    """Runs scenario(Executor, *args) on both implementations; returns the
    two results, asserting they are equal."""
    a = scenario(IMPLS["stdlib"], *args)
    b = scenario(IMPLS["gofutures"], *args)
    assert a == b
    return b


def exc_info(fut, timeout=60):
    try:
        return ("ok", fut.result(timeout=timeout))
    except BaseException as e:  # noqa: B902
        return ("raise", type(e).__name__, str(e))


def test_is_a_stdlib_executor():
    assert issubclass(gofutures.ProcessPoolExecutor, cf.ProcessPoolExecutor)
    assert gofutures.BrokenProcessPool is cf.process.BrokenProcessPool


def test_submit_result_args_kwargs(ctx):
    def scenario(Ex):
        with Ex(2, mp_context=ctx) as ex:
            fs = [ex.submit(T.square, i) for i in range(50)]
            g = ex.submit(T.add, 1, 2, c=3)
            f = ex.submit(T.add, a=5)
            return [x.result() for x in fs], g.result(), f.result(), isinstance(g, cf.Future)
    assert both(scenario)[1:] == (6, 5, True)


def test_future_is_gofutures_future():
    with gofutures.ProcessPoolExecutor(1) as ex:
        f = ex.submit(T.square, 3)
        assert type(f) is gofutures.Future
        assert f.result() == 9
        assert "state=finished returned int" in repr(f)


def test_task_exception_carries_remote_traceback(ctx):
    def scenario(Ex):
        with Ex(1, mp_context=ctx) as ex:
            f = ex.submit(T.raise_value_error, "bad input")
            e = f.exception(timeout=60)
            cause = e.__cause__
            return (type(e).__name__, str(e), type(cause).__name__,
                    "raise_value_error" in str(cause), 'ValueError: bad input' in str(cause))
    assert both(scenario) == ("ValueError", "bad input", "_RemoteTraceback", True, True)


def test_base_exception_from_task():
    def scenario(Ex):
        with Ex(1) as ex:
            return exc_info(ex.submit(T.raise_keyboard_interrupt))
    assert both(scenario) == ("raise", "KeyboardInterrupt", "from task")


def test_non_callable_fails_the_future():
    def scenario(Ex):
        with Ex(1) as ex:
            return exc_info(ex.submit(42))
    assert both(scenario) == ("raise", "TypeError", "'int' object is not callable")


def test_map_in_order_with_chunks(ctx):
    def scenario(Ex):
        with Ex(2, mp_context=ctx) as ex:
            return (list(ex.map(T.square, range(100))),
                    list(ex.map(T.add, range(37), range(37), chunksize=5)),
                    list(ex.map(T.square, [], chunksize=3)))
    r = both(scenario)
    assert r[0] == [i * i for i in range(100)]


def test_map_exception_at_its_position():
    def scenario(Ex):
        with Ex(2) as ex:
            it = ex.map(T.square, [1, 2, "x", 4], chunksize=2)
            got = []
            try:
                for v in it:
                    got.append(v)
            except TypeError as e:
                return got, type(e).__name__
    assert both(scenario) == ([1, 4], "TypeError")


def test_map_bad_arguments():
    for Ex in IMPLS.values():
        with Ex(1) as ex:
            with pytest.raises(ValueError, match="chunksize must be >= 1."):
                ex.map(T.square, [1], chunksize=0)
            with pytest.raises(TypeError):
                ex.map(T.square, 5)


def test_map_timeout():
    def scenario(Ex):
        with Ex(1) as ex:
            it = ex.map(T.sleep_then, [1, 2], [0.0, 5.0], timeout=0.5)
            first = next(it)
            try:
                next(it)
            except cf.TimeoutError as e:
                return first, type(e).__name__
    assert both(scenario) == (1, "TimeoutError")


def test_constructor_errors():
    def scenario(Ex):
        return [outcome(Ex, 0), outcome(Ex, -1), outcome(Ex, 1, initializer=5)]
    r = both(scenario)
    assert r[0] == ("raise", "ValueError", "max_workers must be greater than 0")


@pytest.mark.skipif(not PY311, reason="the stdlib has max_tasks_per_child from 3.11")
def test_max_tasks_per_child_errors_match_stdlib():
    fork = mp.get_context("fork")

    def scenario(Ex):
        return [outcome(Ex, 1, max_tasks_per_child=0), outcome(Ex, 1, max_tasks_per_child="2"),
                outcome(Ex, 1, mp_context=fork, max_tasks_per_child=2)]
    r = both(scenario)
    assert [x[1] for x in r] == ["ValueError", "TypeError", "ValueError"]


def test_max_tasks_per_child_replaces_workers():
    # On every version (the stdlib has it from 3.11 only).
    with gofutures.ProcessPoolExecutor(1, max_tasks_per_child=2) as ex:
        pids = [ex.submit(T.pid).result() for _ in range(6)]
    assert len(set(pids)) == 3
    assert pids[0] == pids[1] and pids[2] == pids[3] and pids[4] == pids[5]


def test_initializer_runs_in_each_worker(ctx):
    with gofutures.ProcessPoolExecutor(1, mp_context=ctx, initializer=T.record_init,
                                       initargs=("hello",)) as ex:
        assert ex.submit(T.get_init).result() == ["hello"]


def test_initializer_failure_breaks_the_pool(ctx):
    def scenario(Ex):
        with Ex(1, mp_context=ctx, initializer=T.fail_initializer) as ex:
            fs = [ex.submit(T.square, i) for i in range(3)]
            r = [exc_info(f) for f in fs]
            time.sleep(0.2)
            return r[0], outcome(ex.submit, T.square, 1)
    r = both(scenario)
    assert r[0][1] == "BrokenProcessPool"
    assert r[1] == ("raise", "BrokenProcessPool",
                    "A child process terminated abruptly, the process pool is not usable anymore")


@pytest.mark.parametrize("task", [T.exit_process, T.kill_self, T.segfault])
def test_worker_death_breaks_the_pool(task, tmp_path):
    # The other call waits for a file that appears only after the test: it
    # is running when the worker dies, so it fails too, on both pools.
    gate = str(tmp_path / "never")

    def scenario(Ex):
        with Ex(2) as ex:
            held = ex.submit(T.wait_for_file, gate, 1)
            # The second worker is up (on demand, forkserver and spawn start
            # it for this call) and idle before the death: the stdlib's
            # manager thread watches a worker only from its next wait after
            # the worker's start, and would not see one that died sooner
            # until held returned.
            assert ex.submit(T.square, 2).result(timeout=60) == 4
            f = ex.submit(task)
            r = exc_info(f)
            others = exc_info(held)
            return r, others[0], outcome(ex.submit, T.square, 1)
    try:
        r = both(scenario)
    finally:
        open(gate, "w").close()   # a worker left running returns at once
    assert r[1] == "raise"
    assert r[0] == ("raise", "BrokenProcessPool",
                    "A process in the process pool was terminated abruptly while the future "
                    "was running or pending.")


def test_killed_worker_from_outside():
    import signal
    for Ex in IMPLS.values():
        with Ex(1) as ex:
            f = ex.submit(T.sleep_then, 1, 30)
            p = ex.submit(T.square, 2)
            deadline = time.monotonic() + 30
            while not f.running() and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.2)
            for proc in list(ex._processes.values()):
                os.kill(proc.pid, signal.SIGKILL)
            t0 = time.monotonic()
            with pytest.raises(gofutures.BrokenProcessPool):
                f.result(timeout=20)
            with pytest.raises(gofutures.BrokenProcessPool):
                p.result(timeout=20)
            assert time.monotonic() - t0 < 20


def test_unpicklable_argument_fails_only_that_future(ctx):
    def scenario(Ex):
        with Ex(1, mp_context=ctx) as ex:
            bad = ex.submit(T.square, T.Unpicklable())
            r = exc_info(bad)
            return r, ex.submit(T.square, 4).result()
    assert both(scenario) == (("raise", "TypeError", "Unpicklable cannot be pickled"), 16)


def test_unpicklable_result_fails_its_future():
    def scenario(Ex):
        with Ex(1) as ex:
            r = exc_info(ex.submit(T.return_unpicklable))
            return r[:2], ex.submit(T.square, 5).result()
    assert both(scenario)[1] == 25


def test_result_that_cannot_be_unpickled_breaks_the_pool():
    def scenario(Ex):
        with Ex(1) as ex:
            f = ex.submit(T.return_error_at_unpickle)
            r = exc_info(f)
            try:
                f.result()
            except cf.process.BrokenProcessPool as e:
                return r, "cannot unpickle this" in str(e.__cause__)
    assert both(scenario)[0][1] == "BrokenProcessPool"


def test_huge_result():
    n = 100 * 1024 * 1024
    with gofutures.ProcessPoolExecutor(1) as ex:
        r = ex.submit(T.big_result, n).result(timeout=60)
        assert len(r) == n and r[:3] == b"xxx"
        assert ex.submit(T.square, 3).result() == 9


def test_shutdown_and_submit_after():
    def scenario(Ex):
        ex = Ex(1)
        ex.submit(T.square, 2).result()
        ex.shutdown()
        return outcome(ex.submit, T.square, 1)
    assert both(scenario) == ("raise", "RuntimeError", "cannot schedule new futures after shutdown")


def test_shutdown_cancel_futures():
    def scenario(Ex):
        ex = Ex(1)
        first = ex.submit(T.sleep_then, 0, 0.5)
        rest = [ex.submit(T.square, i) for i in range(20)]
        time.sleep(0.2)
        ex.shutdown(wait=True, cancel_futures=True)
        cancelled = sum(f.cancelled() for f in rest)
        return first.result(), cancelled > 10, all(f.done() for f in rest)
    assert both(scenario) == (0, True, True)


def test_shutdown_wait_false_finishes_work():
    def scenario(Ex):
        ex = Ex(2)
        fs = [ex.submit(T.sleep_then, i, 0.05) for i in range(6)]
        ex.shutdown(wait=False)
        return [f.result(timeout=60) for f in fs]
    assert both(scenario) == list(range(6))


def test_done_callbacks_run_for_process_futures():
    with gofutures.ProcessPoolExecutor(1) as ex:
        seen = []
        ev = threading.Event()
        f = ex.submit(T.sleep_then, 7, 0.2)
        f.add_done_callback(lambda fut: (seen.append(fut.result()), ev.set()))
        assert ev.wait(30)
        assert seen == [7]
        late = []
        f.add_done_callback(lambda fut: late.append(fut.result()))
        assert late == [7]


def test_stdlib_wait_and_as_completed_on_process_futures():
    from concurrent.futures._base import wait as std_wait
    with gofutures.ProcessPoolExecutor(2) as ex:
        fs = [ex.submit(T.sleep_then, i, 0.05 * (i % 3)) for i in range(8)]
        done, not_done = std_wait(fs, timeout=60)
        assert len(done) == 8 and not not_done
        fs2 = [ex.submit(T.sleep_then, i, 0.05) for i in range(5)]
        from concurrent.futures._base import as_completed as std_ac
        assert sorted(f.result() for f in std_ac(fs2, timeout=60)) == list(range(5))
        fs3 = [ex.submit(T.sleep_then, i, 0.05) for i in range(5)]
        assert sorted(f.result() for f in gofutures.as_completed(fs3, timeout=60)) == list(range(5))
        d, nd = gofutures.wait(fs3 + [cf.Future()], timeout=0.1)
        assert len(d) == 5 and len(nd) == 1


def test_asyncio_run_in_executor_and_wrap_future():
    async def main(ex):
        loop = asyncio.get_running_loop()
        a = await loop.run_in_executor(ex, T.square, 6)
        b = await asyncio.wrap_future(ex.submit(T.sleep_then, 3, 0.1))
        return a, b
    with gofutures.ProcessPoolExecutor(1) as ex:
        assert asyncio.run(main(ex)) == (36, 3)


@pytest.mark.parametrize("in_a_cycle", [False, True])
def test_dropped_executor_ends_its_workers(in_a_cycle):
    ex = gofutures.ProcessPoolExecutor(2)
    if in_a_cycle:
        ex.cycle = ex  # collected only by the cycle collector
    assert ex.submit(T.square, 2).result() == 4
    procs = list(ex._processes.values())
    thread = ex._executor_manager_thread
    del ex
    gc.collect()
    thread.join(30)
    assert not thread.is_alive()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_start_methods(method):
    with gofutures.ProcessPoolExecutor(2, mp_context=mp.get_context(method)) as ex:
        assert sorted(ex.map(T.square, range(10))) == [i * i for i in range(10)]
        assert len(set(ex.map(T.pid, range(20)))) >= 1


def test_default_context_is_the_stdlibs():
    ex1, ex2 = cf.ProcessPoolExecutor(1), gofutures.ProcessPoolExecutor(1)
    try:
        assert ex1._mp_context.get_start_method() == ex2._mp_context.get_start_method()
    finally:
        ex1.shutdown()
        ex2.shutdown()


def test_wait_first_exception_on_a_process_future_already_failed():
    # A process future's exception may still be bytes in Go when wait()
    # looks at it: it must count as an exception all the same (else wait
    # blocks until the slow task ends, and returns both done).
    with gofutures.ProcessPoolExecutor(2) as ex:
        fresh = ex.submit(divmod, 21, 0)
        while not fresh.done():
            time.sleep(0.01)
        slow = ex.submit(T.sleep_then, 1, 3)
        done, not_done = gofutures.wait([fresh, slow], return_when=gofutures.FIRST_EXCEPTION)
        assert done == {fresh} and not_done == {slow}
