"""Executors, thread-pool futures and map iterators shared by several
threads (issue 14's concurrency tier), each compared with the stdlib."""
import concurrent.futures as cf
import multiprocessing as mp
import threading
from concurrent.futures import _base

import pytest

import conc_tasks as T
import gofutures

pytestmark = pytest.mark.timeout(300)

THREAD = {"stdlib": cf.ThreadPoolExecutor, "gofutures": gofutures.ThreadPoolExecutor}
FORK = mp.get_context("fork")


def make(pool, impl):
    if pool == "thread":
        return THREAD[impl](2)
    Ex = cf.ProcessPoolExecutor if impl == "stdlib" else gofutures.ProcessPoolExecutor
    return Ex(2, mp_context=FORK)


def run_threads(fns, limit=200):
    ts = [threading.Thread(target=fn, daemon=True) for fn in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join(limit)
    assert not any(t.is_alive() for t in ts), "a thread never returned"


def submit_during_shutdown(pool, impl, cancel):
    """Four threads submit while a fifth shuts the executor down: each
    submit returns a future that completes (or, with cancel_futures, may be
    cancelled) or raises the stdlib's RuntimeError."""
    ex = make(pool, impl)
    ex.submit(T.identity, 0).result()
    go = threading.Barrier(5)
    outcomes = []   # list.append is atomic
    futures = []

    def submitter():
        go.wait()
        for i in range(300):
            try:
                futures.append(ex.submit(T.identity, i))
            except RuntimeError as e:
                outcomes.append(("refused", str(e)))
                return
        outcomes.append(("all accepted",))

    def closer():
        go.wait()
        ex.shutdown(wait=True, cancel_futures=cancel)

    run_threads([submitter] * 4 + [closer])
    kinds = set()
    for f in futures:
        assert f.done(), "shutdown(wait=True) returned with a future not done"
        if f.cancelled():
            kinds.add("cancelled")
        else:
            assert f.result(timeout=0) in range(300)
            kinds.add("result")
    messages = {o[1] for o in outcomes if o[0] == "refused"}
    return messages, kinds - ({"cancelled"} if not cancel else set())


@pytest.mark.parametrize("cancel", [False, True])
@pytest.mark.parametrize("pool", ["thread", "process"])
def test_submit_from_threads_while_another_shuts_down(pool, cancel):
    want = submit_during_shutdown(pool, "stdlib", cancel)
    got = submit_during_shutdown(pool, "gofutures", cancel)
    # the messages a refused submit gets are the stdlib's (and nothing else)
    assert got[0] <= {"cannot schedule new futures after shutdown"}
    assert want[0] <= {"cannot schedule new futures after shutdown"}
    assert "cancelled" not in got[1]   # without cancel_futures nothing is cancelled


def shared_thread_future(impl, rounds=200):
    """Per round: a worker completes a future while three threads read it
    (result, exception, repr, add_done_callback, the stdlib's unbound
    result and wait) and a fourth tries to cancel it. Returns what was seen,
    as counts of consistent rounds."""
    ex = THREAD[impl](1)
    tally = {"value": 0, "cancelled": 0}
    try:
        for r in range(rounds):
            gate = threading.Event()
            f = ex.submit(lambda r=r: (gate.wait(30), r)[1])
            calls = []
            seen = []
            start = threading.Barrier(4)

            def reader():
                start.wait()
                f.add_done_callback(lambda fut: calls.append(1))
                repr(f)
                _base.wait([f])
                for get in (f.result, cf.Future.result):
                    try:
                        seen.append(("ok", get(f) if get is cf.Future.result else get()))
                    except cf.CancelledError:
                        seen.append(("cancelled",))
                seen.append(("exc", f.exception() if not f.cancelled() else None))

            def canceller():
                start.wait()
                f.cancel()
                gate.set()

            run_threads([reader, reader, reader, canceller])
            assert len(calls) == 3, "every done-callback runs exactly once"
            values = {s for s in seen if s[0] != "exc"}
            assert len(values) == 1, seen           # every reader saw the same outcome
            assert {s for s in seen if s[0] == "exc"} == {("exc", None)}
            tally["cancelled" if values == {("cancelled",)} else "value"] += 1
    finally:
        ex.shutdown()
    return tally


@pytest.mark.parametrize("impl", ["stdlib", "gofutures"])
def test_one_thread_future_read_and_cancelled_from_several_threads(impl):
    tally = shared_thread_future(impl)
    assert sum(tally.values()) == 200


def drain_shared_map(impl, buffersize):
    ex = THREAD[impl](2)
    kw = {"buffersize": buffersize} if buffersize else {}
    if buffersize and impl == "stdlib" and not hasattr(cf.Executor.map, "__wrapped__"):
        import inspect
        if "buffersize" not in inspect.signature(cf.Executor.map).parameters:
            kw = {}   # the stdlib before 3.14 has no buffersize: its plain map
    it = ex.map(T.identity, range(2000), **kw)
    got, errors = [], set()

    def drain():
        while True:
            try:
                got.append(next(it))
            except StopIteration:
                return
            except ValueError as e:
                errors.add(str(e))

    try:
        run_threads([drain] * 4)
    finally:
        ex.shutdown()
    return sorted(got), errors


@pytest.mark.parametrize("buffersize", [None, 16])
def test_one_map_iterator_drained_by_several_threads(buffersize):
    want = drain_shared_map("stdlib", buffersize)
    got = drain_shared_map("gofutures", buffersize)
    assert want[0] == got[0] == list(range(2000))   # every result once
    assert got[1] <= {"generator already executing"}
    assert want[1] <= {"generator already executing"}
