"""A library-style Future subclass (completed through concurrent.futures'
private protocol) under install(): gofutures' wait() and as_completed() must
show a user what the stdlib's show."""
import concurrent.futures as cf
import concurrent.futures._base as cf_base
import threading

import gofutures


class LibFuture(cf.Future):
    """Written the way libraries write them: completion by assigning _state
    and _result/_exception under _condition, telling _waiters, then
    _invoke_callbacks()."""

    def resolve(self, value):
        self._finish("_result", value, "add_result")

    def fail(self, exc):
        self._finish("_exception", exc, "add_exception")

    def _finish(self, slot, value, tell):
        # slot: _result or _exception; tell: the waiters' add_result or
        # add_exception.
        with self._condition:
            setattr(self, slot, value)
            self._state = cf_base.FINISHED
            for waiter in self._waiters:
                getattr(waiter, tell)(self)
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
