"""Bad input gets the stdlib's exception type and message (differential:
every case runs on concurrent.futures and on gofutures and the outcomes,
as (type name, message) or the returned value, must be equal)."""
import logging
import math
import threading

import pytest

from conftest import GOFUTURES, STDLIB, norm_repr, outcome

# method="thread": a hang fails the run even where a signal could not
# interrupt it (outcome() catches BaseException, pytest's timeout included).
pytestmark = pytest.mark.timeout(60, method="thread")


def both(case):
    """case(impl) -> value; returns the outcomes on (stdlib, gofutures)."""
    return outcome(case, STDLIB), outcome(case, GOFUTURES)


def assert_same(case):
    std, gof = both(case)
    assert gof == std
    return std


# ---- constructor ---------------------------------------------------------------------

def run_pool(impl, **kw):
    with impl.ThreadPoolExecutor(**kw) as ex:
        return list(ex.map(abs, [-1, -2, -3]))


@pytest.mark.parametrize("max_workers", [0, -1, -0.5, "2", "x", b"1", None, 1.5, 0.5, True,
                                         10 ** 30, math.inf, [], 2.0])
def test_max_workers(max_workers):
    std = assert_same(lambda impl: run_pool(impl, max_workers=max_workers))
    if max_workers in (0, -1, -0.5):
        assert std == ("raise", "ValueError", "max_workers must be greater than 0")


@pytest.mark.parametrize("initializer", [1, "abc"])
def test_initializer_not_callable(initializer):
    assert assert_same(lambda impl: impl.ThreadPoolExecutor(1, initializer=initializer))[0] == "raise"


def test_initargs_not_a_tuple():
    def case(impl):
        with impl.ThreadPoolExecutor(1, initializer=lambda *a: None, initargs=5) as ex:
            return outcome(ex.submit(abs, -1).result, timeout=10)
    assert_same(case)


# ---- submit --------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [None, 1, "abs", object()])
def test_submit_non_callable(fn):
    """The stdlib accepts it and the future fails with TypeError."""
    def case(impl):
        with impl.ThreadPoolExecutor(1) as ex:
            f = ex.submit(fn, 1)
            e = f.exception(timeout=10)
            return type(e).__name__, norm_repr(str(e))
    assert assert_same(case)[1][0] == "TypeError"


@pytest.mark.parametrize("call", ["no_fn", "fn_keyword", "star_none"])
def test_submit_bad_arguments(call):
    def case(impl):
        with impl.ThreadPoolExecutor(1) as ex:
            if call == "no_fn":
                return ex.submit()
            if call == "fn_keyword":
                return ex.submit(fn=abs)
            return ex.submit(abs, *None)
    assert assert_same(case)[0] == "raise"


def test_submit_after_shutdown_and_its_futures():
    def case(impl):
        ex = impl.ThreadPoolExecutor(1)
        gate = threading.Event()
        first = ex.submit(gate.wait, 10)
        queued = [ex.submit(abs, -i) for i in range(3)]
        ex.shutdown(wait=False, cancel_futures=True)
        gate.set()
        ex.shutdown()
        return (outcome(ex.submit, abs, 1), first.result(timeout=10),
                [(f.cancelled(), f.done(), outcome(f.result, 0)) for f in queued],
                (len(impl.wait(queued, timeout=0).done),
                 outcome(lambda: [f.done() for f in impl.as_completed(queued, timeout=0)])))
    std, gof = case(STDLIB), case(GOFUTURES)
    assert gof[:3] == std[:3]
    # The futures shutdown(cancel_futures=True) cancels: the stdlib never
    # counts them done; gofutures notifies them (issue 18's fix).
    assert std[3] == (0, ("raise", "TimeoutError", "3 (of 3) futures unfinished"))
    assert gof[3] == (3, ("ok", [True, True, True]))


# ---- map -----------------------------------------------------------------------------

@pytest.mark.parametrize("iterables", [(1,), (None,), ([1], 2), ()])
def test_map_non_iterable(iterables):
    def case(impl):
        with impl.ThreadPoolExecutor(1) as ex:
            return list(ex.map(abs, *iterables))
    assert_same(case)


def test_map_non_callable():
    def case(impl):
        with impl.ThreadPoolExecutor(1) as ex:
            return list(ex.map(5, [1, 2]))
    assert assert_same(case)[0] == "raise"


@pytest.mark.parametrize("timeout", [-1, 0, "1", float("-inf"), [], None])
def test_map_timeout(timeout):
    def case(impl):
        gate = threading.Event()
        with impl.ThreadPoolExecutor(1) as ex:
            try:
                it = ex.map(lambda x: gate.wait(10) and x, [1, 2], timeout=timeout)
            except TypeError as e:
                return "at map()", str(e)
            try:
                return outcome(list, it) if timeout is not None else (gate.set(), list(it))
            finally:
                gate.set()
    assert_same(case)


# ---- timeouts ------------------------------------------------------------------------

TIMEOUTS = [-1, 0, float("nan"), float("-inf"), "1", [], -(10 ** 30),
            # too large for a lock: the interpreter's OverflowError, on every call
            float("inf"), 1e300, 1e10, 10 ** 10, 2 ** 70, 10 ** 400]


@pytest.mark.parametrize("timeout", TIMEOUTS, ids=repr)
@pytest.mark.parametrize("call", ["result", "exception", "wait", "as_completed"])
def test_timeout_on_pending(call, timeout):
    """On a future that never completes: each value polls, or fails as the
    stdlib's does (as_completed with NaN waits for ever in the stdlib and is
    checked separately)."""
    if call == "as_completed" and isinstance(timeout, float) and math.isnan(timeout):
        pytest.skip("waits for ever on the stdlib (see test_as_completed_nan_timeout)")

    def case(impl):
        f = impl.Future()
        if call == "result":
            return f.result(timeout)
        if call == "exception":
            return f.exception(timeout)
        if call == "wait":
            d, nd = impl.wait([f], timeout)
            return len(d), len(nd)
        return next(iter(impl.as_completed([f], timeout)))
    assert_same(case)


@pytest.mark.parametrize("timeout", [None, float("nan")], ids=repr)
def test_as_completed_nan_or_none_timeout_waits(timeout):
    def case(impl):
        f = impl.Future()
        threading.Timer(0.1, f.set_result, (3,)).start()
        return [g.result() for g in impl.as_completed([f], timeout)]
    assert assert_same(case) == ("ok", [3])


@pytest.mark.parametrize("timeout", [None, float("nan"), -1], ids=repr)
def test_timeout_on_done(timeout):
    def case(impl):
        f = impl.Future()
        f.set_result(1)
        return (f.result(timeout), f.exception(timeout), len(impl.wait([f], timeout).done),
                [g.result() for g in impl.as_completed([f], timeout)])
    assert assert_same(case) == ("ok", (1, None, 1, [1]))


# ---- wait / as_completed arguments ---------------------------------------------------

@pytest.mark.parametrize("return_when", ["bogus", None, 7, "FIRST_COMPLETED "])
@pytest.mark.parametrize("done", [True, False])
def test_return_when_unknown(return_when, done):
    def case(impl):
        f = impl.Future()
        if done:
            f.set_result(1)
        d, nd = impl.wait([f], timeout=0, return_when=return_when)
        return len(d), len(nd)
    assert_same(case)


NOT_FUTURES = {
    "ints": lambda impl: [1, 2],
    "int": lambda impl: 5,
    "none": lambda impl: None,
    "strings": lambda impl: ["ab"],
    "unhashable": lambda impl: [[1]],
    "mixed": lambda impl: [impl.Future(), object()],
    "empty": lambda impl: [],
    "generator": lambda impl: (f for f in [impl.Future()]),
}


@pytest.mark.parametrize("what", sorted(NOT_FUTURES))
@pytest.mark.parametrize("call", ["wait", "as_completed"])
def test_wait_on_non_futures(call, what):
    def case(impl):
        fs = NOT_FUTURES[what](impl)
        if call == "wait":
            d, nd = impl.wait(fs, timeout=0)
            return len(d), len(nd)
        return [f.done() for f in impl.as_completed(fs, timeout=0)]
    assert_same(case)


# ---- callbacks that raise ------------------------------------------------------------

class Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        exc = record.exc_info[1] if record.exc_info else None
        self.records.append((record.levelname, norm_repr(record.getMessage()),
                             type(exc).__name__ if exc else None))


def with_log(fn):
    log = logging.getLogger("concurrent.futures")
    h = Capture()
    log.addHandler(h)
    old = log.propagate
    log.propagate = False
    try:
        return fn(), h.records
    finally:
        log.removeHandler(h)
        log.propagate = old


@pytest.mark.parametrize("exc", [ValueError, ZeroDivisionError, KeyError])
@pytest.mark.parametrize("where", ["pending_set_result", "already_done", "pool_task",
                                   "cancel", "set_exception"])
def test_raising_callback_is_logged_and_next_runs(where, exc):
    def case(impl):
        ran = []

        def bad(f):
            ran.append("bad")
            raise exc("cb")

        def good(f):
            ran.append("good")

        def go():
            if where == "pool_task":
                with impl.ThreadPoolExecutor(1) as ex:
                    gate = threading.Event()
                    f = ex.submit(gate.wait, 10)
                    f.add_done_callback(bad)
                    f.add_done_callback(good)
                    gate.set()
                return f.result(timeout=10)
            f = impl.Future()
            if where == "already_done":
                f.set_result(1)
            f.add_done_callback(bad)
            f.add_done_callback(good)
            if where == "pending_set_result":
                f.set_result(2)
            elif where == "cancel":
                f.cancel()
            elif where == "set_exception":
                f.set_exception(OSError("x"))
            return f.done()
        return with_log(go), ran
    assert_same(case)


@pytest.mark.parametrize("exc", [SystemExit, KeyboardInterrupt, GeneratorExit])
@pytest.mark.parametrize("where", ["pending_set_result", "already_done"])
def test_base_exception_callback_propagates(where, exc):
    def case(impl):
        f = impl.Future()
        ran = []
        if where == "already_done":
            f.set_result(1)
        f.add_done_callback(lambda f: (_ for _ in ()).throw(exc("stop")))
        f.add_done_callback(lambda f: ran.append("second"))
        if where == "pending_set_result":
            r = outcome(f.set_result, 2)
        else:
            r = None
        return r, ran, f.done()
    assert_same(case)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit, GeneratorExit, StopIteration])
def test_task_raising_base_exception_is_its_future_exception(exc):
    """A task's BaseException is stored in its future; the worker survives."""
    def case(impl):
        def task():
            raise exc("in task")
        with impl.ThreadPoolExecutor(1) as ex:
            f = ex.submit(task)
            e = f.exception(timeout=10)
            return type(e).__name__, str(e), outcome(f.result), ex.submit(abs, -3).result(timeout=10)
    assert assert_same(case)[1][0] == exc.__name__
