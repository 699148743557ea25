"""install()/uninstall(), a library-style Future subclass under install(),
the conformance runner (python -m gofutures.conformance), and regression
tests for the bugs CPython's own test suite found in gofutures."""
import concurrent.futures as cf
import concurrent.futures._base as cf_base
import concurrent.futures.thread as cf_thread
import gc
import importlib.util
import io
import os
import subprocess
import sys
import textwrap
import threading
import weakref
from contextlib import redirect_stdout

import pytest

import gofutures
from gofutures import conformance
from gofutures.conformance import _deviations, _suite, _tally

HAS_SUITE = _suite.find() is not None
HAS_PROCESS = importlib.util.find_spec("gofutures.process") is not None


@pytest.fixture
def installed():
    gofutures.install()
    try:
        yield
    finally:
        gofutures.uninstall()


# ---- install() / uninstall() -----------------------------------------------------

STDLIB_NAMES = [
    (cf, "ThreadPoolExecutor"), (cf_thread, "ThreadPoolExecutor"),
    (cf, "wait"), (cf_base, "wait"), (cf, "as_completed"), (cf_base, "as_completed"),
]


def test_install_points_the_package_and_submodules_at_gofutures():
    before = [getattr(m, n) for m, n in STDLIB_NAMES]
    gofutures.install()
    try:
        assert cf.ThreadPoolExecutor is cf_thread.ThreadPoolExecutor is gofutures.ThreadPoolExecutor
        assert cf.wait is cf_base.wait is gofutures.wait
        assert cf.as_completed is cf_base.as_completed is gofutures.as_completed
        assert cf.Future is cf_base.Future  # left alone
        assert gofutures.installed()
    finally:
        gofutures.uninstall()
    assert [getattr(m, n) for m, n in STDLIB_NAMES] == before
    assert cf.wait.__module__ == "concurrent.futures._base"
    assert not gofutures.installed()


def test_install_is_idempotent():
    before = [getattr(m, n) for m, n in STDLIB_NAMES]
    gofutures.install()
    gofutures.install()
    gofutures.uninstall()   # one uninstall undoes both
    assert [getattr(m, n) for m, n in STDLIB_NAMES] == before
    gofutures.uninstall()   # and a second one is harmless
    assert [getattr(m, n) for m, n in STDLIB_NAMES] == before


def test_process_pool_follows_gofutures_process(installed):
    import concurrent.futures.process as cf_process
    if HAS_PROCESS:
        from gofutures import process
        assert cf.ProcessPoolExecutor is cf_process.ProcessPoolExecutor is process.ProcessPoolExecutor
    else:
        assert cf.ProcessPoolExecutor is cf_process.ProcessPoolExecutor
        assert cf.ProcessPoolExecutor.__module__ == "concurrent.futures.process"


def test_code_importing_after_install_gets_gofutures(installed):
    from concurrent.futures import ThreadPoolExecutor, as_completed, wait
    with ThreadPoolExecutor(2) as ex:
        fs = [ex.submit(pow, 2, n) for n in range(8)]
        assert all(type(f) is gofutures.Future for f in fs)
        done, not_done = wait(fs)
        assert sorted(f.result() for f in as_completed(fs)) == [2 ** n for n in range(8)]
    assert len(done) == 8 and not not_done


# ---- a library's Future subclass, driven through the private protocol --------------

class LibFuture(cf.Future):
    """Written the way libraries write them: completion by assigning _state
    and _result/_exception under _condition, telling _waiters, then
    _invoke_callbacks()."""

    def resolve(self, value):
        with self._condition:
            self._result = value
            self._state = cf_base.FINISHED
            for waiter in self._waiters:
                waiter.add_result(self)
            self._condition.notify_all()
        self._invoke_callbacks()

    def fail(self, exc):
        with self._condition:
            self._exception = exc
            self._state = cf_base.FINISHED
            for waiter in self._waiters:
                waiter.add_exception(self)
            self._condition.notify_all()
        self._invoke_callbacks()


def _later(fn, *args):
    t = threading.Timer(0.05, fn, args)
    t.start()
    return t


def _library_scenario():
    """Uses whatever concurrent.futures' wait/as_completed are right now;
    returns what a user would observe."""
    seen = []
    out = {}
    with cf.ThreadPoolExecutor(1) as ex:
        gate = threading.Event()
        blocked = ex.submit(gate.wait, 30)
        a, b, c = LibFuture(), LibFuture(), LibFuture()
        a.add_done_callback(lambda f: seen.append(("cb", f.result())))
        t = _later(a.resolve, "a")
        done, not_done = cf.wait([a, b, blocked], timeout=30, return_when=cf.FIRST_COMPLETED)
        t.join()
        out["first_completed"] = (done == {a}, not_done == {b, blocked})
        t = _later(b.fail, KeyError("b"))
        done, not_done = cf.wait([b, blocked], timeout=30, return_when=cf.FIRST_EXCEPTION)
        t.join()
        out["first_exception"] = (done == {b}, not_done == {blocked})
        _later(c.resolve, "c")
        _later(gate.set)
        order = [f.result() if f is not b else repr(f.exception())
                 for f in cf.as_completed([a, b, c, blocked], timeout=30)]
        out["as_completed"] = sorted(map(str, order))
        out["cancel"] = (LibFuture().cancel(), c.cancel())
    out["callbacks"] = seen
    return out


def test_library_future_subclass_with_gofutures_wait_and_as_completed():
    expected = _library_scenario()   # the stdlib's wait/as_completed
    assert expected["first_completed"] == (True, True)
    gofutures.install()
    try:
        assert cf.wait is gofutures.wait and cf.as_completed is gofutures.as_completed
        assert type(cf.ThreadPoolExecutor(1).submit(int)) is gofutures.Future
        assert _library_scenario() == expected
    finally:
        gofutures.uninstall()


# ---- the runner --------------------------------------------------------------------

def test_runner_skips_cleanly_without_the_suite(monkeypatch):
    monkeypatch.setattr(_suite, "find", lambda: None)
    out = io.StringIO()
    with redirect_stdout(out):
        rc = conformance.main([])
    assert rc == 0
    assert out.getvalue().startswith("conformance: SKIPPED:")
    assert "does not ship test.test_concurrent_futures" in out.getvalue()


def test_deviation_file_parses_per_version(tmp_path):
    p = tmp_path / "dev.txt"
    p.write_text("# comment\n"
                 "A.test_x  *  reads _threads\n"
                 "B.test_y  3.9,3.10  reads _processes  # why\n")
    assert _deviations.parse(p, "3.13") == {"A.test_x": "reads _threads"}
    assert _deviations.parse(p, "3.10") == {"A.test_x": "reads _threads",
                                            "B.test_y": "reads _processes"}
    p.write_text("A.test_x *\n")
    with pytest.raises(ValueError):
        _deviations.parse(p, "3.13")


def test_packaged_deviation_file_is_well_formed():
    for v in ("3.9", "3.10", "3.13"):
        for key, reason in _deviations.parse(version=v).items():
            assert "." in key and reason


def test_judge():
    P, F, E, S = _tally.PASS, _tally.FAIL, _tally.ERROR, _tally.SKIP
    keys = {"C.ok", "C.listed_fails", "C.listed_passes", "C.new_failure", "C.err", "C.skip"}
    outcomes = {"C.ok": P, "C.listed_fails": F, "C.listed_passes": P, "C.new_failure": F,
                "C.err": E, "C.skip": S}
    known = {"C.listed_fails": "r1", "C.listed_passes": "r2", "C.gone": "r3", "C.skip": "r4"}
    seen, problems = _deviations.judge(outcomes, known, keys)
    assert seen == {"C.listed_fails": "r1"}
    assert sorted(k for k, _ in problems) == ["C.err", "C.gone", "C.listed_passes", "C.new_failure"]


def run_runner(*args, prelude="", timeout=600):
    code = prelude + "import sys; from gofutures import conformance; sys.exit(conformance.main(sys.argv[1:]))"
    p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout


needs_suite = pytest.mark.skipif(not HAS_SUITE, reason="this Python has no test.test_concurrent_futures")


@needs_suite
def test_runner_runs_the_suite_on_gofutures():
    rc, out = run_runner("-k", "ThreadPoolAsCompletedTest.*", "-k", "ThreadPoolWaitTest*.*")
    assert rc == 0, out
    assert "ThreadPoolExecutor=gofutures" in out and "wait=gofutures" in out
    assert "ThreadPoolAsCompletedTest" in out
    total = out.strip().splitlines()[-1]
    assert total.startswith("TOTAL ") and total.endswith("; OK")
    assert " 0 failed, 0 errors" in total


@needs_suite
def test_future_gofutures_makes_the_suite_build_gofutures_futures():
    code = textwrap.dedent("""
        import sys
        from gofutures.conformance import _suite
        _suite.point_at_gofutures()
        _suite._import_tests(sys.argv[1])
        mods = [m for n, m in list(sys.modules.items())
                if n.startswith(_suite.SUITE) and hasattr(m, "create_future")]
        print(type(mods[0].create_future()).__module__)
    """)
    kinds = []
    for future in ("stdlib", "gofutures"):
        p = subprocess.run([sys.executable, "-c", code, future], capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        kinds.append(p.stdout.strip())
    assert kinds == ["concurrent.futures._base", "gofutures"]


@needs_suite
def test_runner_fails_on_a_broken_gofutures():
    # If the suite were not really running gofutures' functions, breaking
    # them would change nothing.
    broken = ("import gofutures._wait as w\n"
              "w.as_completed = lambda fs, timeout=None: iter(())\n")
    rc, out = run_runner("-k", "ThreadPoolAsCompletedTest.*", prelude=broken)
    assert rc == 1, out
    assert "FAIL: ThreadPoolAsCompletedTest." in out and "not a known deviation" in out
    assert out.strip().splitlines()[-1].startswith("TOTAL ")


@needs_suite
def test_runner_fails_when_a_listed_deviation_passes(tmp_path):
    dev = tmp_path / "dev.txt"
    dev.write_text("ThreadPoolAsCompletedTest.test_no_timeout  *  pretend it reads _threads\n")
    rc, out = run_runner("--deviations", str(dev), "-k", "ThreadPoolAsCompletedTest.test_no_timeout")
    assert rc == 1, out
    assert "ThreadPoolAsCompletedTest.test_no_timeout: passes now" in out


# ---- bugs the suite found (each also a CPython test) ---------------------------------

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
