"""Future: the same behaviour as concurrent.futures.Future, on both
implementations, plus what only gofutures.Future must do (Go-owned state,
cycle collection, interop with the stdlib and asyncio)."""
import asyncio
import concurrent.futures as cf
import gc
import logging
import threading
import time
import traceback
import weakref

import pytest

import gofutures
from conftest import GOFUTURES, STDLIB, norm_repr, outcome


def finished(impl, value=42):
    f = impl.Future()
    f.set_result(value)
    return f


def failed(impl, exc=None):
    f = impl.Future()
    f.set_exception(exc or ValueError("boom"))
    return f


# ---- identity -------------------------------------------------------------

def test_is_a_concurrent_futures_future():
    f = gofutures.Future()
    assert isinstance(f, cf.Future)
    assert issubclass(gofutures.Future, cf.Future)
    assert gofutures.Future.__module__ == "gofutures"
    assert gofutures.Future.__name__ == "Future"


def test_class_getitem():
    alias = gofutures.Future[int]
    assert alias.__origin__ is gofutures.Future
    assert alias.__args__ == (int,)


def test_init_takes_no_arguments(impl):
    with pytest.raises(TypeError):
        impl.Future(1)


def test_instances_take_attributes(impl):
    f = impl.Future()
    f.tag = "x"
    assert f.tag == "x"
    assert weakref.ref(f)() is f


# ---- states ----------------------------------------------------------------

def states(f):
    return (f.cancelled(), f.running(), f.done())


@pytest.mark.parametrize("setup, expected", [
    ("pending", (False, False, False)),
    ("running", (False, True, False)),
    ("cancelled", (True, False, True)),
    ("notified", (True, False, True)),
    ("finished", (False, False, True)),
    ("failed", (False, False, True)),
])
def test_state_predicates(impl, setup, expected):
    f = make(impl, setup)
    assert states(f) == expected


def make(impl, setup):
    f = impl.Future()
    if setup == "running":
        assert f.set_running_or_notify_cancel() is True
    elif setup == "cancelled":
        assert f.cancel() is True
    elif setup == "notified":
        f.cancel()
        assert f.set_running_or_notify_cancel() is False
    elif setup == "finished":
        f.set_result(1)
    elif setup == "failed":
        f.set_exception(OSError("x"))
    return f


SETUPS = ["pending", "running", "cancelled", "notified", "finished", "failed"]
OPS = {
    "cancel": lambda f: f.cancel(),
    "set_running": lambda f: f.set_running_or_notify_cancel(),
    "set_result": lambda f: f.set_result(7),
    "set_exception": lambda f: f.set_exception(KeyError("k")),
    "result0": lambda f: f.result(timeout=0),
    "exception0": lambda f: repr(f.exception(timeout=0)),
    "repr": lambda f: norm_repr(repr(f)),
    "_state": lambda f: f._state,
}


@pytest.mark.parametrize("setup", SETUPS)
@pytest.mark.parametrize("op", sorted(OPS))
def test_every_operation_in_every_state_matches_stdlib(setup, op):
    a = outcome(OPS[op], make(STDLIB, setup))
    b = outcome(OPS[op], make(GOFUTURES, setup))
    if op == "repr":
        a, b = (a[0], a[1].replace("Future", "F")), (b[0], b[1].replace("Future", "F"))
    assert a == b


def test_invalid_state_message(impl):
    f = finished(impl, 3)
    with pytest.raises(cf.InvalidStateError) as ei:
        f.set_result(4)
    assert norm_repr(str(ei.value)) == \
        "FINISHED: <Future at 0xADDR state=finished returned int>"
    g = impl.Future()
    g.cancel()
    with pytest.raises(cf.InvalidStateError, match="^CANCELLED: <Future at 0x[0-9a-f]+ state=cancelled>$"):
        g.set_exception(ValueError())


def test_unexpected_state_is_runtime_error_and_logged(impl, caplog):
    f = finished(impl)
    with caplog.at_level(logging.CRITICAL, logger="concurrent.futures"):
        with pytest.raises(RuntimeError, match="^Future in unexpected state$"):
            f.set_running_or_notify_cancel()
    assert any("in unexpected state: FINISHED" in r.getMessage() for r in caplog.records)


def test_reprs(impl):
    assert norm_repr(repr(impl.Future())) == "<Future at 0xADDR state=pending>"
    assert norm_repr(repr(make(impl, "running"))) == "<Future at 0xADDR state=running>"
    assert norm_repr(repr(make(impl, "notified"))) == "<Future at 0xADDR state=cancelled>"
    assert norm_repr(repr(finished(impl, None))) == \
        "<Future at 0xADDR state=finished returned NoneType>"
    assert norm_repr(repr(failed(impl))) == "<Future at 0xADDR state=finished raised ValueError>"


def test_repr_of_subclass_uses_its_name(impl):
    class MyFuture(impl.Future):
        pass
    assert norm_repr(repr(MyFuture())) == "<MyFuture at 0xADDR state=pending>"


# ---- results and exceptions -------------------------------------------------

def test_result_and_exception(impl):
    assert finished(impl, "v").result() == "v"
    assert finished(impl, "v").exception() is None
    e = ValueError("boom")
    f = failed(impl, e)
    assert f.exception() is e
    with pytest.raises(ValueError) as ei:
        f.result()
    assert ei.value is e


def test_result_keeps_the_original_traceback(impl):
    def inner():
        raise KeyError("deep")
    try:
        inner()
    except KeyError as e:
        exc = e
    f = failed(impl, exc)
    with pytest.raises(KeyError) as ei:
        f.result()
    names = [fr.f_code.co_name for fr, _ in traceback.walk_tb(ei.value.__traceback__)]
    assert "inner" in names


def test_result_of_cancelled_raises_cancelled_error(impl):
    for setup in ("cancelled", "notified"):
        f = make(impl, setup)
        with pytest.raises(cf.CancelledError):
            f.result()
        with pytest.raises(cf.CancelledError):
            f.exception()


@pytest.mark.parametrize("timeout", [0, -1, 0.01, float("nan")])
def test_timeout_raises_stdlib_timeout_error(impl, timeout):
    f = impl.Future()
    with pytest.raises(cf.TimeoutError):
        f.result(timeout)
    with pytest.raises(cf.TimeoutError):
        f.exception(timeout=timeout)


def test_bad_timeout_types_match_stdlib():
    for bad in ("1", [], object()):
        assert outcome(STDLIB.Future().result, bad)[:2] == outcome(GOFUTURES.Future().result, bad)[:2]
    assert outcome(STDLIB.Future().result, float("inf"))[:2] == \
        outcome(GOFUTURES.Future().result, float("inf"))[:2]


def test_bad_timeout_ignored_when_done(impl):
    assert finished(impl, 5).result("not a number") == 5


def test_result_wakes_when_set_from_another_thread(impl):
    f = impl.Future()
    threading.Timer(0.05, f.set_result, args=("late",)).start()
    assert f.result(timeout=10) == "late"
    g = impl.Future()
    threading.Timer(0.05, g.cancel).start()
    with pytest.raises(cf.CancelledError):
        g.result(timeout=10)


def test_set_exception_with_non_exception(impl):
    f = impl.Future()
    f.set_exception("not an exception")
    assert outcome(f.result)[:2] == ("raise", "TypeError")


def test_set_exception_with_class(impl):
    f = impl.Future()
    f.set_exception(ValueError)
    with pytest.raises(ValueError):
        f.result()


def test_base_exception_as_result_exception(impl):
    f = failed(impl, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        f.result()


# ---- callbacks --------------------------------------------------------------

def test_callbacks_run_in_order_once(impl):
    seen = []
    f = impl.Future()
    for i in range(3):
        f.add_done_callback(lambda fut, i=i: seen.append((i, fut)))
    f.set_result(1)
    assert seen == [(0, f), (1, f), (2, f)]
    f.add_done_callback(lambda fut: seen.append(("late", fut)))
    assert seen[-1] == ("late", f)
    assert len(seen) == 4


def test_callbacks_run_on_cancel(impl):
    seen = []
    f = impl.Future()
    f.add_done_callback(seen.append)
    assert f.cancel()
    assert seen == [f]
    assert f.cancel()  # already cancelled: no second run
    assert seen == [f]


def test_raising_callback_is_logged_and_others_run(impl, caplog):
    seen = []
    f = impl.Future()
    f.add_done_callback(lambda fut: 1 / 0)
    f.add_done_callback(seen.append)
    with caplog.at_level(logging.ERROR, logger="concurrent.futures"):
        f.set_result(1)
    assert seen == [f]
    recs = [r for r in caplog.records if r.name == "concurrent.futures"]
    assert len(recs) == 1
    assert norm_repr(recs[0].getMessage()) == \
        "exception calling callback for <Future at 0xADDR state=finished returned int>"
    assert recs[0].exc_info[0] is ZeroDivisionError


def test_raising_callback_on_done_future_is_logged(impl, caplog):
    f = finished(impl)
    with caplog.at_level(logging.ERROR, logger="concurrent.futures"):
        f.add_done_callback(lambda fut: [][1])
    assert [r.exc_info[0] for r in caplog.records] == [IndexError]


def test_base_exception_in_callback_propagates(impl):
    f = impl.Future()

    def cb(fut):
        raise SystemExit(3)
    f.add_done_callback(cb)
    with pytest.raises(SystemExit):
        f.set_result(1)
    assert f.done()


# ---- the stdlib's private protocol ------------------------------------------

def test_private_state_attributes(impl):
    f = impl.Future()
    assert f._state == "PENDING"
    f.set_running_or_notify_cancel()
    assert f._state == "RUNNING"
    f.set_result(9)
    assert (f._state, f._result, f._exception) == ("FINISHED", 9, None)
    assert isinstance(f._waiters, list)
    with f._condition:
        pass


def test_stdlib_wait_and_as_completed_on_gofutures_futures():
    fs = [gofutures.Future() for _ in range(4)]
    fs[0].set_result(0)
    done, not_done = cf.wait(fs, timeout=0)
    assert done == {fs[0]} and not_done == set(fs[1:])
    for i, f in enumerate(fs[1:], 1):
        threading.Timer(0.01 * i, f.set_result, args=(i,)).start()
    done, not_done = cf.wait(fs, timeout=10)
    assert not not_done
    assert sorted(f.result() for f in cf.as_completed(fs, timeout=10)) == [0, 1, 2, 3]
    assert all(f._waiters == [] for f in fs)


def test_stdlib_wait_first_exception_on_gofutures_futures():
    fs = [gofutures.Future() for _ in range(3)]
    threading.Timer(0.05, fs[1].set_exception, args=(OSError(),)).start()
    done, not_done = cf.wait(fs, timeout=10, return_when=cf.FIRST_EXCEPTION)
    assert done == {fs[1]}


def test_asyncio_wrap_future():
    async def main():
        f = gofutures.Future()
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, lambda: threading.Thread(target=f.set_result, args=("a",)).start())
        return await asyncio.wrap_future(f)
    assert asyncio.run(main()) == "a"


def test_asyncio_wrap_future_exception_and_cancel():
    async def main():
        f = gofutures.Future()
        f.set_exception(LookupError("l"))
        with pytest.raises(LookupError):
            await asyncio.wrap_future(f)
        g = gofutures.Future()
        w = asyncio.wrap_future(g)
        w.cancel()
        await asyncio.sleep(0.01)
        return g.cancelled()
    assert asyncio.run(main()) is True


def test_asyncio_run_in_executor():
    async def main():
        loop = asyncio.get_running_loop()
        with gofutures.ThreadPoolExecutor(2) as ex:
            return await asyncio.gather(*(loop.run_in_executor(ex, pow, 2, i) for i in range(5)))
    assert asyncio.run(main()) == [1, 2, 4, 8, 16]


# ---- memory -------------------------------------------------------------------

def test_future_in_a_cycle_is_collected():
    gc.collect()
    f = gofutures.Future()
    f.set_result([f])          # result refers back to the future
    f.add_done_callback(lambda fut, f=f: None)
    r = weakref.ref(f)
    del f
    gc.collect()
    assert r() is None


def test_done_futures_are_freed_when_dropped():
    f = gofutures.Future()
    f.set_result(object())
    r = weakref.ref(f)
    del f
    assert r() is None


def test_go_handles_released():
    ext = gofutures._ext.load()
    gc.collect()
    before = ext.debug_counts()["handles"]
    fs = [gofutures.Future() for _ in range(1000)]
    assert ext.debug_counts()["handles"] == before + 1000
    gofutures.wait(fs, timeout=0)
    del fs
    gc.collect()
    assert ext.debug_counts()["handles"] == before


# ---- blocking releases the GIL ---------------------------------------------------

def test_result_wait_releases_the_gil():
    f = gofutures.Future()
    counter = [0]
    stop = time.monotonic() + 0.3

    def spin():
        while time.monotonic() < stop:
            counter[0] += 1
        f.set_result("done")
    threading.Thread(target=spin).start()
    assert f.result(timeout=10) == "done"
    assert counter[0] > 1000


def test_state_written_through_the_private_attribute_is_seen_after_done():
    # A done future answers state questions from its C object; writing the
    # stdlib's private _state (as some libraries and the stdlib's own tests
    # do) must still be seen by every query and by wait().
    f = gofutures.Future()
    f.set_result(1)
    assert f.done() and gofutures.wait([f], timeout=0).done == {f}
    f._state = "PENDING"
    assert not f.done() and f._state == "PENDING"
    assert gofutures.wait([f], timeout=0).not_done == {f}
    f._state = "CANCELLED_AND_NOTIFIED"
    assert f.cancelled() and gofutures.wait([f], timeout=0).done == {f}
    f._state = "RUNNING"
    assert f.running() and not f.done()
