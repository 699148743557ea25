"""What CPython 3.14 and 3.15 added to concurrent.futures, against the
stdlib's own behaviour (differential): InterpreterPoolExecutor, the default
start method and on-demand worker start, one BrokenProcessPool per failed
future (gh-101267), 3.15's cause naming the dead worker, and
-X thread_inherit_context. The process pools run in this process; scenarios
that depend on a fresh interpreter (import order, -X options) run in a
subprocess."""
import concurrent.futures as cf
import concurrent.futures.process as cf_process
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

import gofutures
import proc_tasks as T
from conftest import collect_until_gone, outcome

pytestmark = pytest.mark.timeout(120)
py314 = pytest.mark.skipif(sys.version_info < (3, 14), reason="new in CPython 3.14")
py315 = pytest.mark.skipif(sys.version_info < (3, 15), reason="new in CPython 3.15")
TESTS = os.path.dirname(os.path.abspath(__file__))


def run_py(code, *opts):
    """Runs code in a fresh interpreter (this one, with opts); returns its stdout."""
    env = dict(os.environ, PYTHONPATH=TESTS + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, *opts, "-c", textwrap.dedent(code)], env=env,
                       capture_output=True, text=True, timeout=100)
    assert r.returncode == 0, r.stderr
    return r.stdout


def has_interpreters():
    try:
        import _interpreters  # noqa: F401
    except ImportError:
        return False
    return True


# -- InterpreterPoolExecutor -------------------------------------------------

def test_interpreter_pool_is_exported_where_the_stdlib_has_it():
    assert ("InterpreterPoolExecutor" in gofutures.__all__) == ("InterpreterPoolExecutor" in cf.__all__)
    if "InterpreterPoolExecutor" not in cf.__all__:
        with pytest.raises(AttributeError):
            gofutures.InterpreterPoolExecutor


@py314
@pytest.mark.skipif(not has_interpreters(), reason="built without subinterpreters")
def test_interpreter_pool_is_the_stdlibs():
    assert gofutures.InterpreterPoolExecutor is cf.InterpreterPoolExecutor
    assert "InterpreterPoolExecutor" in dir(gofutures)


@py314
@pytest.mark.skipif(not has_interpreters(), reason="built without subinterpreters")
@pytest.mark.parametrize("order", ["install-first", "import-first"])
def test_interpreter_pool_works_after_install(order):
    # install() before anything imported concurrent.futures.interpreter: the
    # stdlib's class must still subclass the stdlib's ThreadPoolExecutor
    # (its workers need WorkerContext), and run calls in subinterpreters.
    out = run_py("""
        import sys, gofutures
        if sys.argv[-1] == "import-first":
            gofutures.InterpreterPoolExecutor
        gofutures.install()
        import concurrent.futures as cf
        from concurrent.futures import thread as cf_thread
        assert cf.ThreadPoolExecutor is gofutures.ThreadPoolExecutor
        IPE = cf.InterpreterPoolExecutor
        assert IPE is gofutures.InterpreterPoolExecutor
        assert gofutures.ThreadPoolExecutor not in IPE.__mro__, IPE.__mro__
        with IPE(2) as ex:
            # Run in a subinterpreter (id 0 is the main interpreter's).
            where = ex.submit(eval, "__import__('_interpreters').get_current()[0]").result(timeout=60)
            print(ex.submit(pow, 2, 10).result(timeout=60), list(ex.map(abs, [-1, -2])), where > 0)
        """.replace('sys.argv[-1]', repr(order)))
    assert out.split() == ["1024", "[1,", "2]", "True"]


# -- start method, on-demand start --------------------------------------------

def test_default_start_method_is_the_stdlibs():
    # forkserver on Linux from 3.14, fork before: whatever multiprocessing's
    # default is, as the stdlib's pool takes it.
    with gofutures.ProcessPoolExecutor(1) as g, cf.ProcessPoolExecutor(1) as s:
        assert (g._mp_context.get_start_method(allow_none=False)
                == s._mp_context.get_start_method(allow_none=False))
    if sys.version_info >= (3, 14) and sys.platform == "linux":
        assert g._mp_context.get_start_method() == "forkserver"


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_non_fork_workers_start_on_demand(method):
    import multiprocessing as mp
    counts = []
    for impl in (cf, gofutures):
        with impl.ProcessPoolExecutor(4, mp_context=mp.get_context(method)) as ex:
            assert ex.submit(T.square, 3).result(timeout=60) == 9
            assert ex.submit(T.square, 4).result(timeout=60) == 16
            counts.append(len(ex._processes))
    assert counts[1] == counts[0] == 1


# -- broken pools ---------------------------------------------------------------

def _broken_futures(impl, n=4, death=(T.kill_self,)):
    """A one-worker pool whose worker dies running the first of n calls (the
    others pending behind it); the exceptions, and the worker's pid."""
    go = os.path.join(tempfile.mkdtemp(), "go")
    with impl.ProcessPoolExecutor(1) as ex:
        wpid = ex.submit(T.pid).result(timeout=60)
        # The death waits for `go`, made once all n calls are submitted: a
        # worker that died sooner would break the pool under the submits.
        fs = [ex.submit(T.call_after_file, go, *death)]
        fs += [ex.submit(T.sleep_then, i, 0.01) for i in range(n - 1)]
        open(go, "w").close()
        excs = [f.exception(timeout=60) for f in fs]
    return excs, wpid


@pytest.mark.parametrize("impl", [cf, gofutures], ids=["stdlib", "gofutures"])
def test_each_broken_future_has_its_own_exception(impl):
    # gh-101267 (3.14.8 and 3.15): separate instances, so tracebacks added
    # by one waiter's raise do not show up in another's. gofutures builds one
    # per future on every version.
    if impl is cf and sys.version_info < (3, 14):
        pytest.skip("the stdlib shares one instance before 3.14")
    excs, _ = _broken_futures(impl)
    assert all(type(e) is cf_process.BrokenProcessPool for e in excs)
    assert len({id(e) for e in excs}) == len(excs)
    assert len({str(e) for e in excs}) == 1


def _cause(e):
    return None if e.__cause__ is None else str(e.__cause__)


@py315
def test_the_stdlibs_cause_names_the_dead_worker():
    # The wording the next test holds gofutures to (3.15's _terminate_broken).
    excs, wpid = _broken_futures(cf)
    want = "\n'''\nProcess %d terminated abruptly with exit code -9'''" % wpid
    assert {_cause(e) for e in excs} == {want}


@py315
def test_cause_names_the_dead_worker_in_the_stdlibs_words():
    excs, wpid = _broken_futures(gofutures)
    want = "\n'''\nProcess %d terminated abruptly with exit code -9'''" % wpid
    assert {_cause(e) for e in excs} == {want}


@py315
@pytest.mark.parametrize("impl", [cf, gofutures], ids=["stdlib", "gofutures"])
def test_no_cause_for_a_worker_that_exited_with_code_0(impl):
    # 3.15 names only workers with a non-zero exit code.
    excs, _ = _broken_futures(impl, death=(T.exit_with, 0))
    assert all(type(e) is cf_process.BrokenProcessPool for e in excs)
    assert {_cause(e) for e in excs} == {None}


# -- terminate_workers / kill_workers ---------------------------------------

@py314
@pytest.mark.parametrize("method", ["terminate_workers", "kill_workers"])
def test_terminate_and_kill_workers_as_the_stdlib(method):
    seen = []
    for impl in (cf, gofutures):
        ex = impl.ProcessPoolExecutor(1)
        assert ex.submit(T.square, 2).result(timeout=60) == 4   # the worker is up
        running = ex.submit(T.sleep_then, 1, 30)
        pending = [ex.submit(T.square, i) for i in range(10)]
        deadline = time.monotonic() + 60
        while not running.running() and time.monotonic() < deadline:
            time.sleep(0.01)   # bounded poll: no event says "handed to the worker"
        getattr(ex, method)()
        exc = running.exception(timeout=60)
        after = outcome(ex.submit, T.square, 1)
        ex.shutdown()
        seen.append((type(exc).__name__, pending[-1].cancelled(), after))
    assert seen[1] == seen[0]
    assert seen[0][:2] == ("BrokenProcessPool", True)


# -- -X thread_inherit_context ----------------------------------------------

@py314
@pytest.mark.parametrize("flag", ["0", "1"])
def test_worker_threads_inherit_the_context_as_the_stdlibs(flag):
    out = run_py("""
        import contextvars, threading, gofutures
        import concurrent.futures as cf
        var = contextvars.ContextVar("var", default="unset")
        for impl in (cf, gofutures):
            var.set("main-" + impl.__name__)
            with impl.ThreadPoolExecutor(2) as ex:
                first = ex.submit(var.get).result(timeout=30)   # starts worker 1
                # Two calls that wait for each other run on two workers: the
                # second one is started by a thread with a value of its own.
                both = threading.Barrier(2, timeout=30)
                def read():
                    both.wait()
                    return var.get()
                box = []
                def other():
                    var.set("other")
                    box.extend(ex.submit(read) for _ in range(2))
                t = threading.Thread(target=other); t.start(); t.join()
                later = sorted(f.result(timeout=60) for f in box)
            print(impl.__name__, first, later)
        """, "-X", "thread_inherit_context=" + flag)
    std, gof = out.splitlines()
    assert gof.replace("gofutures", "X") == std.replace("concurrent.futures", "X")


def test_stdlib_thread_pools_stay_thread_pools_after_install():
    # asyncio's set_default_executor checks isinstance(executor,
    # concurrent.futures.ThreadPoolExecutor): after install() that is
    # gofutures' class, and the stdlib's pools (InterpreterPoolExecutor among
    # them) must still pass (3.14's AsyncioTest.test_default_executor).
    out = run_py("""
        import asyncio, concurrent.futures as cf, gofutures
        from concurrent.futures import thread as cf_thread
        std = cf_thread.ThreadPoolExecutor(1)
        gofutures.install()
        assert isinstance(std, cf.ThreadPoolExecutor)
        loop = asyncio.new_event_loop()
        loop.set_default_executor(std)
        print(loop.run_until_complete(loop.run_in_executor(None, pow, 2, 5)))
        loop.close()
        gofutures.uninstall()
        assert not isinstance(std, gofutures.ThreadPoolExecutor)   # only while installed
        std.shutdown()
        """)
    assert out.split() == ["32"]


@pytest.mark.parametrize("method", ["terminate_workers", "kill_workers"])
def test_force_shutdown_takes_the_stdlibs_operations(method, monkeypatch):
    # 3.14's tests mock _force_shutdown and expect operation=_TERMINATE/_KILL,
    # and a ValueError for any other operation.
    with gofutures.ProcessPoolExecutor(1) as ex:
        with pytest.raises(ValueError, match="Unsupported operation: 'invalid operation'"):
            ex._force_shutdown(operation="invalid operation")
        calls = []
        monkeypatch.setattr(ex, "_force_shutdown", lambda **kw: calls.append(kw))
        getattr(ex, method)()
    want = getattr(cf_process, "_TERMINATE" if method == "terminate_workers" else "_KILL",
                   method.split("_")[0])
    assert calls == [{"operation": want}]


@py314
@pytest.mark.parametrize("impl", [
    pytest.param(cf, id="stdlib"),
    pytest.param(gofutures, id="gofutures"),
])
def test_a_dropped_pool_fails_what_its_retired_worker_cannot_run(impl, tmp_path):
    # 3.14's gh-152967: the executor is garbage collected while its only
    # worker runs its last task (max_tasks_per_child=1); the queued calls can
    # never run, and fail with BrokenProcessPool instead of waiting for ever.
    import multiprocessing as mp
    import weakref
    import py314_tasks as P
    started, release = str(tmp_path / "started"), str(tmp_path / "release")
    ex = impl.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), max_tasks_per_child=1)
    futs = [ex.submit(P.wait_for_file, started, release, i) for i in range(3)]
    deadline = time.monotonic() + 60
    while not os.path.exists(started) and time.monotonic() < deadline:
        time.sleep(0.01)
    ref = weakref.ref(ex)
    del ex
    collect_until_gone(ref, pause=0.01)
    assert ref() is None
    open(release, "w").close()
    assert futs[0].result(timeout=60) == 0
    for f in futs[1:]:
        with pytest.raises(cf_process.BrokenProcessPool, match="garbage collected"):
            f.result(timeout=60)
