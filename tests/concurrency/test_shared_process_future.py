"""One process future shared by several threads (issue 14, points 1, 2, 6
and 10's repr): what each thread sees is compared with the stdlib's.

Scenarios that crashed the interpreter before the fix run in a fresh
interpreter, so that a crash fails one test, not the run."""
import concurrent.futures as cf
import gc
import json
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import weakref
from concurrent.futures import _base

import pytest

import conc_tasks as T
import gofutures

pytestmark = pytest.mark.timeout(300)

HERE = os.path.dirname(os.path.abspath(__file__))
IMPLS = {"stdlib": cf.ProcessPoolExecutor, "gofutures": gofutures.ProcessPoolExecutor}
FORK = mp.get_context("fork")

# Several threads read one finished process future whose result takes a
# while to unpickle (it releases the GIL meanwhile); a done-callback reads
# it too. Prints what every reader got, as JSON.
READERS = r"""
import concurrent.futures as cf, json, multiprocessing as mp, sys, threading
sys.path.insert(0, {here!r})
import conc_tasks as T
import gofutures
Ex = {{"stdlib": cf.ProcessPoolExecutor, "gofutures": gofutures.ProcessPoolExecutor}}[{impl!r}]

def outcome(fn):
    try:
        v = fn()
        if isinstance(v, BaseException):
            return ["returned", type(v).__name__, str(v)]
        return ["ok", repr(getattr(v, "value", v))]
    except BaseException as e:
        return ["raise", type(e).__name__, str(e)]

out = {{}}
with Ex(1, mp_context=mp.get_context("fork")) as ex:
    for kind in ("value", "error"):
        for method in ("result", "exception"):
            if kind == "value":
                f = ex.submit(T.slow_value, 7, 0.3)
            else:
                f = ex.submit(T.raise_slow_error, "boom", 0.3)
            got = []
            f.add_done_callback(lambda f: got.append(outcome(getattr(f, method))))
            cf.wait([f]) if {impl!r} == "stdlib" else gofutures.wait([f])
            start = threading.Barrier(4)
            def read():
                start.wait()
                got.append(outcome(getattr(f, method)))
            ts = [threading.Thread(target=read) for _ in range(4)]
            for t in ts: t.start()
            for t in ts: t.join()
            # the done-callback may run on another thread: wait for it
            for _ in range(6000):
                if len(got) == 5: break
                threading.Event().wait(0.01)
            out[kind + "/" + method] = sorted(got)
print(json.dumps(out))
"""


def run_script(src, timeout=240):
    p = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, "exit %d\n%s" % (p.returncode, p.stderr[-3000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_threads_reading_a_result_that_is_being_unpickled_all_see_it():
    want = run_script(READERS.format(here=HERE, impl="stdlib"))
    got = run_script(READERS.format(here=HERE, impl="gofutures"))
    assert got == want
    # and what the stdlib gives is what a user expects: five equal readings
    assert want["value/result"] == [["ok", "7"]] * 5
    assert want["error/result"] == [["raise", "SlowError", "boom"]] * 5


def _held(ex, path, n):
    return [ex.submit(T.wait_for_file, path, i) for i in range(n)]


@pytest.mark.parametrize("impl", ["stdlib", "gofutures"])
def test_stdlib_wait_and_as_completed_over_process_futures(impl, tmp_path):
    """The stdlib's own wait()/as_completed() (bound before any install())
    over many process futures: each is reported done exactly once, and a
    wait without a timeout returns."""
    go = tmp_path / "go"
    go.touch()
    res = {}

    def body():
        with IMPLS[impl](2, mp_context=FORK) as ex:
            fs = [ex.submit(T.identity, i) for i in range(3000)]
            done, not_done = _base.wait(fs)           # ALL_COMPLETED, no timeout
            res["all"] = (len(done), len(not_done))
            fs = [ex.submit(T.identity, i) for i in range(2000)]
            pending, rounds = set(fs), 0
            while pending:
                d, pending = _base.wait(pending, return_when=cf.FIRST_COMPLETED)
                assert d and all(f.done() for f in d)
                rounds += 1
            fs = [ex.submit(T.identity, i) for i in range(2000)]
            seen = [f.result() for f in _base.as_completed(fs)]
            res["as_completed"] = sorted(seen) == list(range(2000))

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(200)
    assert not t.is_alive(), "the stdlib's wait()/as_completed() never returned"
    assert res == {"all": (3000, 0), "as_completed": True}


@pytest.mark.parametrize("method", ["result", "exception"])
@pytest.mark.parametrize("impl", ["stdlib", "gofutures"])
def test_unbound_stdlib_methods_wake_on_a_process_future(impl, method, tmp_path):
    """concurrent.futures.Future.result(f) (the stdlib's code, waiting on
    f._condition) returns once the task ends: Go's completion is published
    to the condition."""
    go = tmp_path / "go"
    got = []
    with IMPLS[impl](1, mp_context=FORK) as ex:
        f = ex.submit(T.wait_for_file, str(go), 42)
        t = threading.Thread(target=lambda: got.append(getattr(cf.Future, method)(f)), daemon=True)
        t.start()
        t.join(0.2)   # (best effort: let it block first; the outcome does not depend on it)
        go.touch()
        t.join(120)
        assert not t.is_alive(), "cf.Future.%s(f) was never woken" % method
    assert got == [42 if method == "result" else None]


def test_a_future_finished_by_hand_while_running_is_freed(tmp_path):
    """set_result() on a RUNNING process future with a done-callback: the
    callback runs once, and once the worker's own result comes in (and is
    dropped), nothing keeps the future alive."""
    go = tmp_path / "go"
    calls = []
    with gofutures.ProcessPoolExecutor(1, mp_context=FORK) as ex:
        f = ex.submit(T.wait_for_file, str(go), 1)
        for _ in range(12000):
            if f.running():
                break
            threading.Event().wait(0.005)
        assert f.running()
        f.add_done_callback(lambda fut: calls.append(fut.result()))
        f.set_result(5)
        go.touch()
        assert ex.submit(T.identity, 2).result(timeout=120) == 2   # the worker's result came first
    assert calls == [5] and f.result() == 5
    ref = weakref.ref(f)
    del f
    gc.collect()
    assert ref() is None, "the future is still referenced (by Go's owner word)"


def test_repr_does_not_unpickle_and_result_unpickles_once():
    with gofutures.ProcessPoolExecutor(1, mp_context=FORK) as ex:
        f = ex.submit(T.counts_unpickling, 3)
        gofutures.wait([f])
        r = repr(f)
        assert "state=finished returned" in r
        assert T.restores() == []          # the repr ran no unpickling code
        assert f.result() == 3 and f.result() == 3 and f.exception() is None
        assert T.restores() == [3]         # decoded once, by the first reader
        assert "returned int" in repr(f)


def test_stdlib_protocol_readers_and_completions_race():
    """Threads drive the stdlib's private protocol (the stdlib's wait() and
    as_completed(), unbound result()) on process futures while Go completes
    them: every future is reported done exactly once to each reader."""
    errors = []
    with gofutures.ProcessPoolExecutor(2, mp_context=FORK) as ex:
        fs = [ex.submit(T.identity, i) for i in range(1500)]

        def via_wait():
            d, nd = _base.wait(fs)
            if nd or len(d) != len(fs):
                errors.append(("wait", len(d), len(nd)))

        def via_as_completed():
            got = [f.result() for f in _base.as_completed(fs)]
            if sorted(got) != list(range(len(fs))):
                errors.append(("as_completed", len(got)))

        def via_unbound():
            for f in fs[::7]:
                if cf.Future.result(f) != fs.index(f):
                    errors.append(("unbound", f))

        ts = [threading.Thread(target=fn, daemon=True)
              for fn in (via_wait, via_as_completed, via_unbound, via_wait, via_as_completed)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(200)
        assert not any(t.is_alive() for t in ts), "a stdlib protocol reader was never woken"
    assert errors == []
