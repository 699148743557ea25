"""_clusterutil.admission, the prologue DaskExecutor.submit and
RayExecutor.submit share, on a stand-in executor (no dask, no ray): what
it raises, that the body runs under the executor's lock, and that the
max_pending slot is given back exactly when the body (or the check under
the lock) raises."""
import concurrent.futures as cf
import threading

import pytest

from gofutures._clusterutil import admission


class Slots:
    """A BoundedSemaphore that counts what is held and says when a slot
    was taken."""
    def __init__(self, n):
        self._sem = threading.BoundedSemaphore(n)
        self.held = 0
        self.taken = threading.Event()

    def acquire(self, blocking, timeout):
        ok = self._sem.acquire(blocking, timeout)
        if ok:
            self.held += 1
            self.taken.set()
        return ok

    def release(self):
        self.held -= 1
        self._sem.release()


class Executor:
    def __init__(self, max_pending=2, pending_timeout=None):
        self._slots = Slots(max_pending) if max_pending else None
        self._max_pending, self._pending_timeout = max_pending, pending_timeout
        self._lock = threading.Lock()
        self._broken = None
        self._shutdown = False


class Boom(Exception):
    pass


def test_body_runs_under_the_lock_and_keeps_its_slot():
    ex = Executor()
    with admission(ex):
        assert ex._lock.locked() and ex._slots.held == 1
    assert not ex._lock.locked() and ex._slots.held == 1


def test_body_raising_gives_the_slot_back():
    ex = Executor()
    with pytest.raises(Boom):
        with admission(ex):
            raise Boom
    assert not ex._lock.locked() and ex._slots.held == 0


def test_no_max_pending():
    ex = Executor(max_pending=None)
    with pytest.raises(Boom):
        with admission(ex):
            assert ex._lock.locked()
            raise Boom
    assert not ex._lock.locked()


def test_refused_before_a_slot_is_taken():
    ex = Executor()
    ex._broken = "X is broken: why"
    with pytest.raises(cf.BrokenExecutor, match="^X is broken: why$"):
        with admission(ex):
            pytest.fail("body ran")
    ex._broken, ex._shutdown = None, True
    with pytest.raises(RuntimeError, match="cannot schedule new futures after shutdown"):
        with admission(ex):
            pytest.fail("body ran")
    assert ex._slots.held == 0 and not ex._slots.taken.is_set()


def test_no_room_is_the_stdlib_timeout():
    ex = Executor(max_pending=1, pending_timeout=0.05)
    with admission(ex):
        pass
    with pytest.raises(cf.TimeoutError, match=r"no room for a new task: 1 pending after 0.05 s"):
        with admission(ex):
            pytest.fail("body ran")
    assert ex._slots.held == 1


def test_shutdown_while_waiting_for_the_lock_gives_the_slot_back():
    # Open at the first check; shut down before it gets the lock: the check
    # under the lock refuses, and the slot it took is given back.
    ex = Executor()
    out = []

    def submit():
        try:
            with admission(ex):
                out.append("body ran")
        except RuntimeError as e:
            out.append(e)
    with ex._lock:
        th = threading.Thread(target=submit)
        th.start()
        assert ex._slots.taken.wait(30)
        ex._shutdown = True
    th.join(30)
    assert not th.is_alive()
    assert len(out) == 1 and isinstance(out[0], RuntimeError), out
    assert ex._slots.held == 0
