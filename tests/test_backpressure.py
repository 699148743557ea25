"""Backpressure (gh-73781), opt-in: max_pending bounds the tasks submitted
and not yet done; submit() blocks until one is done, interruptibly, and
pending_timeout raises the stdlib's TimeoutError."""
import concurrent.futures as cf
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import gofutures
import proc_tasks as T
from conftest import forked

pytestmark = pytest.mark.timeout(120)
HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(params=["thread", "process"])
def Pool(request):
    return gofutures.ThreadPoolExecutor if request.param == "thread" else gofutures.ProcessPoolExecutor


def test_submit_blocks_until_a_slot_is_free(Pool):
    with Pool(2, max_pending=2) as ex:
        a = ex.submit(T.sleep_then, 1, 0.5)
        b = ex.submit(T.sleep_then, 2, 0.5)
        got = []
        t = threading.Thread(target=lambda: got.append(ex.submit(T.square, 3)))
        t.start()
        t.join(0.2)
        assert t.is_alive() and not got          # blocked: two pending
        assert not (a.done() and b.done())
        t.join(30)
        assert got and got[0].result() == 9
        assert a.done() or b.done()               # it got in once one was done


def test_pending_timeout_raises_the_stdlib_timeout_error(Pool):
    with Pool(1, max_pending=1, pending_timeout=0.2) as ex:
        first = ex.submit(T.sleep_then, 1, 1.0)
        with pytest.raises(cf.TimeoutError, match="no room for a new task"):
            ex.submit(T.square, 2)
        assert first.result() == 1
        assert ex.submit(T.square, 2).result() == 4   # room again: nothing was lost


def test_unbounded_by_default_and_map_goes_through_the_gate(Pool):
    with Pool(2) as ex:
        assert len([ex.submit(T.square, i) for i in range(50)]) == 50
    with Pool(2, max_pending=3) as ex:
        assert list(ex.map(T.square, range(30))) == [i * i for i in range(30)]


@pytest.mark.parametrize("kw,exc", [({"max_pending": 0}, ValueError), ({"max_pending": -1}, ValueError),
                                    ({"max_pending": 1.5}, TypeError), ({"max_pending": "2"}, TypeError),
                                    ({"pending_timeout": 1}, ValueError),
                                    ({"max_pending": 2, "pending_timeout": -1}, ValueError)])
def test_bad_values(Pool, kw, exc):
    with pytest.raises(exc):
        Pool(1, **kw)


def test_cancelled_and_failed_tasks_give_their_slot_back(Pool):
    with Pool(1, max_pending=2, pending_timeout=30) as ex:
        for _ in range(5):
            with pytest.raises(ValueError):
                ex.submit(T.raise_value_error, "x").result()
        ex.submit(T.sleep_then, 0, 0.3)
        queued = ex.submit(T.square, 1)
        if queued.cancel():
            pass
        assert ex.submit(T.square, 5).result() == 25


def test_ctrl_c_interrupts_a_blocked_submit():
    code = textwrap.dedent("""
        import sys, time
        sys.path.insert(0, %r)
        import gofutures, proc_tasks as T
        ex = gofutures.ThreadPoolExecutor(1, max_pending=1)
        ex.submit(T.sleep_then, 1, 5)
        print("ready", flush=True)
        try:
            ex.submit(T.square, 2)
            print("submitted", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        ex.shutdown(wait=True, cancel_futures=True)
    """ % HERE)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert out.split() == ["interrupted"], err
    assert p.returncode == 0, err


def test_the_engine_never_holds_more_than_max_pending(Pool):
    with Pool(2, max_pending=3) as ex:
        fs = [ex.submit(T.sleep_then, i, 0.01) for i in range(30)]
        assert [f.result() for f in fs] == list(range(30))
        # The Go scheduler's own count: never more than 3 queued at once.
        assert ex.stats().queue_high_water <= 3


def test_submit_and_submit_with_timeout_share_one_bound():
    # One gate for both: max_pending bounds the pool, however tasks came in
    # (each had a Python gate of its own before, so twice as many could wait).
    with gofutures.ProcessPoolExecutor(1, max_pending=1, pending_timeout=0.2) as ex:
        first = ex.submit(T.sleep_then, 1, 1.0)
        with pytest.raises(cf.TimeoutError, match="no room for a new task"):
            ex.submit_with_timeout(30, T.square, 2)
        assert first.result() == 1
        timed = ex.submit_with_timeout(30, T.sleep_then, 2, 1.0)
        with pytest.raises(cf.TimeoutError, match="no room for a new task"):
            ex.submit(T.square, 3)
        assert timed.result() == 2


def test_a_call_that_fails_to_pickle_gives_its_slot_back():
    with gofutures.ProcessPoolExecutor(1, max_pending=1, pending_timeout=5) as ex:
        for _ in range(3):   # each would wait 5 s, then raise, if its slot leaked
            bad = ex.submit(T.square, lambda: 0)
            with pytest.raises(Exception):
                bad.result(timeout=30)
        assert ex.submit(T.square, 3).result(timeout=30) == 9


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_after_the_engine_loaded_still_gets_backpressure():
    with gofutures.ThreadPoolExecutor(1) as ex:   # the engine is loaded and running
        ex.submit(T.square, 1).result()

    def child():   # the stdlib's pool stands in, gated in Python
        code = 1
        c = gofutures.ThreadPoolExecutor(1, max_pending=1, pending_timeout=0.2)
        c.submit(time.sleep, 1.0)
        try:
            c.submit(T.square, 2)
        except cf.TimeoutError:
            code = 0
        c.shutdown(wait=True)
        return code
    reported, exitcode = forked(child)
    assert reported == b"\x00" and exitcode == 0


def test_a_submit_waiting_for_room_fails_cleanly_when_the_pool_shuts_down(Pool):
    # A submit blocked on the gate while another thread shuts the pool down
    # with cancel_futures: the cancelled tasks give their slots back, and the
    # blocked submit raises the stdlib's RuntimeError instead of hanging.
    ex = Pool(1, max_pending=3)
    running = ex.submit(T.sleep_then, 1, 1.0)
    deadline = time.monotonic() + 30
    while not running.running() and time.monotonic() < deadline:
        time.sleep(0.01)
    # A process pool keeps the stdlib's call queue: with one worker, the next
    # task is RUNNING (no longer cancellable) ahead of it.
    ahead = 1 if issubclass(Pool, gofutures.ProcessPoolExecutor) else 0
    queued = [ex.submit(T.square, 2), ex.submit(T.square, 2)]
    got = []

    def blocked():
        try:
            ex.submit(T.square, 3)
            got.append("submitted")
        except RuntimeError as e:
            got.append(str(e))
    t = threading.Thread(target=blocked)
    t.start()
    t.join(0.2)
    assert t.is_alive()                       # waiting for room
    ex.shutdown(wait=True, cancel_futures=True)
    t.join(30)
    assert not t.is_alive()
    assert got == ["cannot schedule new futures after shutdown"]
    assert running.result() == 1
    assert [f.cancelled() for f in queued] == [False] * ahead + [True] * (2 - ahead)
    assert all(f.result() == 4 for f in queued[:ahead])
