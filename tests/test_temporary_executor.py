"""An executor used without a name (`ThreadPoolExecutor(1).submit(...)`) or
through a saved bound method works as the stdlib's does: the call holds the
executor (cshim/coremethod.c). Before, the per-instance `self.submit =
core.submit` let the executor die between the lookup and the call, and its
weakref callback shut the core down: "cannot schedule new futures after
shutdown"."""
import concurrent.futures as cf
import gc
import inspect
import multiprocessing
import os
import sys
import threading

import pytest

import gofutures

IMPLS = [cf, gofutures]
IDS = ["stdlib", "gofutures"]


@pytest.mark.parametrize("mod", IMPLS, ids=IDS)
@pytest.mark.parametrize("kind", ["ThreadPoolExecutor", "ProcessPoolExecutor"])
def test_unnamed_executor_submit(mod, kind):
    assert getattr(mod, kind)(1).submit(abs, -3).result(timeout=60) == 3


@pytest.mark.parametrize("mod", IMPLS, ids=IDS)
@pytest.mark.parametrize("kind", ["ThreadPoolExecutor", "ProcessPoolExecutor"])
def test_saved_bound_submit_outlives_the_name(mod, kind):
    submit = getattr(mod, kind)(1).submit
    gc.collect()
    assert [submit(abs, -n).result(timeout=60) for n in range(3)] == [0, 1, 2]


def test_unnamed_process_executor_with_task_timeout():
    ex_submit = gofutures.ProcessPoolExecutor(1, task_timeout=30).submit
    assert ex_submit(abs, -4).result(timeout=60) == 4
    assert gofutures.ProcessPoolExecutor(1).submit_with_timeout(30, abs, -5).result(timeout=60) == 5


def test_task_timeout_still_applies_to_submit():
    import time
    with gofutures.ProcessPoolExecutor(1, task_timeout=0.5) as ex:
        with pytest.raises(cf.TimeoutError):
            ex.submit(time.sleep, 30).result(timeout=60)
        assert ex.submit(abs, -1).result(timeout=60) == 1


def test_dropped_executor_still_lets_its_threads_end():
    # No reference cycle: `del` alone (no gc) ends the workers, as the
    # stdlib's test_del_shutdown expects.
    gc.disable()
    try:
        ex = gofutures.ThreadPoolExecutor(3)
        fs = [ex.submit(abs, -n) for n in range(20)]
        threads = list(ex._threads)
        del ex
        for t in threads:
            t.join(timeout=60)
            assert not t.is_alive()
        assert [f.result() for f in fs] == list(range(20))
    finally:
        gc.enable()


@pytest.mark.parametrize("mod", IMPLS, ids=IDS)
def test_subclass_overriding_submit(mod):
    seen = []

    class Logged(mod.ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            seen.append(fn)
            return super().submit(fn, *args, **kwargs)

    with Logged(1) as ex:
        assert ex.submit(abs, -2).result() == 2
        assert list(ex.map(abs, [-1, -2])) == [1, 2]
    assert seen[0] is abs and len(seen) == 3


def test_introspection_like_the_python_method():
    ex = gofutures.ThreadPoolExecutor(1)
    try:
        assert ex.submit.__name__ == "submit"
        assert ex.submit.__doc__ == cf.Executor.submit.__doc__
        assert str(inspect.signature(ex.submit)) == "(fn, /, *args, **kwargs)"
        assert ex.submit.__self__ is ex
        with pytest.raises(TypeError, match="missing 1 required positional argument: 'fn'"):
            ex.submit()
        with pytest.raises(TypeError):
            gofutures.ThreadPoolExecutor.submit()
    finally:
        ex.shutdown()


def test_many_threads_submit_through_one_unnamed_executor():
    # Several threads share one executor reached only through its bound
    # method; each call holds the executor.
    submit = gofutures.ThreadPoolExecutor(4).submit
    out, errors = [], []

    def worker(k):
        try:
            out.extend(submit(abs, -k * 100 - i).result(timeout=60) for i in range(100))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    assert sorted(out) == list(range(400))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_uses_the_fallback():
    # In a child forked after the engine loaded, executors are the stdlib's
    # (_core None): the class's C method calls the Python fallback.
    with gofutures.ThreadPoolExecutor(1) as ex:
        ex.submit(abs, 0).result()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            child = gofutures.ThreadPoolExecutor(1)
            ok = child._core is None and child.submit(abs, -7).result(timeout=30) == 7
            child.shutdown()
            # submit_with_timeout there: checked, then submitted (no limit).
            # spawn: the default (forkserver from 3.14) would use the
            # parent's forkserver from this forked child.
            pchild = gofutures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            ok = ok and pchild.submit_with_timeout(30, abs, -8).result(timeout=60) == 8
            pchild.shutdown()
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("kind", ["ThreadPoolExecutor", "ProcessPoolExecutor"])
def test_unnamed_executor_submit_with_priority(kind):
    submit = getattr(gofutures, kind)(1).submit_with_priority
    gc.collect()
    assert submit(5, abs, -2).result(timeout=60) == 2


def test_a_method_patched_before_the_first_executor_stays_the_users():
    # bind_core_methods replaces only the class's own methods: a tracer put
    # on the class before any executor is made (a fresh interpreter) is
    # still what ex.submit calls.
    import subprocess
    code = """
import gofutures
calls = []
orig = gofutures.ThreadPoolExecutor.submit
def traced(self, fn, /, *args, **kwargs):
    calls.append(fn)
    return orig(self, fn, *args, **kwargs)
gofutures.ThreadPoolExecutor.submit = traced
with gofutures.ThreadPoolExecutor(1) as ex:
    assert ex.submit(abs, -3).result() == 3
assert calls == [abs], calls
assert gofutures.ThreadPoolExecutor.submit is traced
print("ok")
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "ok", r.stderr
