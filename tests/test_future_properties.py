"""Property tests (hypothesis) of the Future state machine and of wait():
random operation sequences run in lockstep on the stdlib's Future and on
gofutures.Future must agree step by step; concurrent random operations keep
the state machine's invariants; wait() over random sets of states picks the
same futures as the stdlib's."""
import concurrent.futures as cf
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gofutures
from conftest import norm_repr, outcome

pytestmark = pytest.mark.timeout(300)

OPS = ["cancel", "cancelled", "running", "done", "set_running_or_notify_cancel",
       "set_result", "set_exception", "result", "exception", "add_done_callback", "repr"]


def apply(f, op, log, i):
    if op == "set_result":
        return outcome(f.set_result, i)
    if op == "set_exception":
        return outcome(f.set_exception, ValueError(i))
    if op in ("result", "exception"):
        r = outcome(getattr(f, op), timeout=0)
        if r[0] == "ok" and isinstance(r[1], BaseException):
            r = ("ok", type(r[1]).__name__, str(r[1]))
        return r
    if op == "add_done_callback":
        return outcome(f.add_done_callback, lambda fut, i=i: log.append(i))
    if op == "repr":
        return ("ok", norm_repr(repr(f)).replace("gofutures.", "").split(" at ")[1])
    return outcome(getattr(f, op))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(OPS), max_size=12))
def test_operation_sequences_match_the_stdlib(ops):
    a, b = cf.Future(), gofutures.Future()
    la, lb = [], []
    for i, op in enumerate(ops):
        ra, rb = apply(a, op, la, i), apply(b, op, lb, i)
        assert ra == rb, (i, op)
        assert la == lb, (i, op)
    assert (a._state, a.done(), a.cancelled()) == (b._state, b.done(), b.cancelled())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(["cancel", "set_running_or_notify_cancel", "set_result",
                                          "set_exception", "add_done_callback", "result"]),
                         min_size=1, max_size=6), min_size=2, max_size=4))
def test_concurrent_operations_keep_the_invariants(plans):
    f = gofutures.Future()
    calls, won = [], []
    lock = threading.Lock()
    start = threading.Barrier(len(plans))

    def run(plan, t):
        start.wait()
        for k, op in enumerate(plan):
            key = (t, k)
            if op == "cancel":
                if f.cancel():
                    with lock:
                        won.append(("cancel", key))
            elif op == "set_running_or_notify_cancel":
                try:
                    f.set_running_or_notify_cancel()
                except RuntimeError:
                    pass   # not PENDING or CANCELLED any more: the stdlib raises too
            elif op in ("set_result", "set_exception"):
                try:
                    f.set_result(key) if op == "set_result" else f.set_exception(ValueError(key))
                    with lock:
                        won.append((op, key))
                except cf.InvalidStateError:
                    pass
            elif op == "add_done_callback":
                f.add_done_callback(lambda fut, key=key: calls.append(key))
            else:
                try:
                    f.result(timeout=0)
                except (cf.TimeoutError, cf.CancelledError, ValueError):
                    pass

    threads = [threading.Thread(target=run, args=(p, t)) for t, p in enumerate(plans)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    n_callbacks = sum(p.count("add_done_callback") for p in plans)
    finishers = [w for w in won if w[0] != "cancel"]
    # At most one result or exception is ever stored, and never after a cancel.
    assert len(finishers) <= 1
    if finishers:
        assert not f.cancelled() and f.done()
        kind, key = finishers[0]
        if kind == "set_result":
            assert f.result(timeout=0) == key
        else:
            assert f.exception(timeout=0).args == (key,)
    if f.done():
        # Every callback ran exactly once (once the future is done).
        assert sorted(calls) == sorted(set(calls)) and len(calls) == n_callbacks
    else:
        assert not calls
    if f.cancelled():
        assert not finishers


STATES = ["pending", "running", "cancelled", "cancelled_notified", "result", "exception"]


def make(Future, state, i):
    f = Future()
    if state == "running":
        f.set_running_or_notify_cancel()
    elif state == "cancelled":
        f.cancel()
    elif state == "cancelled_notified":
        f.cancel()
        f.set_running_or_notify_cancel()
    elif state == "result":
        f.set_result(i)
    elif state == "exception":
        f.set_exception(ValueError(i))
    return f


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(STATES), max_size=10),
       st.sampled_from([cf.FIRST_COMPLETED, cf.FIRST_EXCEPTION, cf.ALL_COMPLETED]),
       st.booleans())
def test_wait_picks_the_same_futures_as_the_stdlib(states, return_when, stdlib_futures):
    a = [make(cf.Future, s, i) for i, s in enumerate(states)]
    # gofutures.wait on its own futures, or on the stdlib's (mixed sets work)
    b = [make(cf.Future if stdlib_futures else gofutures.Future, s, i) for i, s in enumerate(states)]
    da, na = cf.wait(a, timeout=0, return_when=return_when)
    db, nb = gofutures.wait(b, timeout=0, return_when=return_when)
    assert sorted(a.index(f) for f in da) == sorted(b.index(f) for f in db)
    assert sorted(a.index(f) for f in na) == sorted(b.index(f) for f in nb)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(STATES), max_size=10), st.permutations(range(10)))
def test_as_completed_yields_done_first_then_in_completion_order(states, order):
    fs = [make(gofutures.Future, s, i) for i, s in enumerate(states)]
    pending = [i for i, f in enumerate(fs) if not (f.done() and f._state != "CANCELLED")]
    finish_order = [i for i in order if i in pending]
    it = gofutures.as_completed(fs + fs[:2], timeout=30)   # duplicates once
    done_first = set(i for i in range(len(fs)) if i not in pending)
    got = [fs.index(next(it)) for _ in done_first]
    assert set(got) == done_first
    for i in finish_order:
        f = fs[i]
        if f._state == "CANCELLED":
            f.set_running_or_notify_cancel()
        else:
            if f._state == "PENDING":
                f.set_running_or_notify_cancel()
            f.set_result(i)
        assert fs.index(next(it)) == i
    with pytest.raises(StopIteration):
        next(it)
