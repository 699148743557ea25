"""What DaskExecutor and RayExecutor share (no dask or ray imports here)."""
import contextlib
import math
from concurrent.futures import _base

from ._stats import Latency


class _Histogram:
    """Log buckets, 16 per power of two: a percentile is the upper edge of
    its bucket (within 6.25% above the exact value), capped at the max."""
    __slots__ = ("buckets", "count", "total", "max")

    def __init__(self):
        self.buckets = {}
        self.count = 0
        self.total = 0.0
        self.max = 0.0

    def add(self, x):
        m, e = math.frexp(x) if x > 0 else (0.5, -1074)
        b = (e, int((m - 0.5) * 32))
        self.buckets[b] = self.buckets.get(b, 0) + 1
        self.count += 1
        self.total += x
        if x > self.max:
            self.max = x

    def latency(self):
        if not self.count:
            return Latency(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        items = sorted(self.buckets.items())
        out = []
        for q in (0.50, 0.90, 0.99):
            rank, seen = math.ceil(q * self.count), 0
            for (e, sub), n in items:
                seen += n
                if seen >= rank:
                    out.append(min(math.ldexp(0.5 + (sub + 1) / 32, e), self.max))
                    break
        return Latency(self.count, self.total / self.count, out[0], out[1], out[2], self.max)


def take_slot(slots, max_pending, pending_timeout):
    """max_pending's gate for the cluster executors (slots: a semaphore, or
    None): waits up to pending_timeout for room, then raises the stdlib's
    TimeoutError in the local pools' words (cshim/gate.c)."""
    if slots is not None and not slots.acquire(True, pending_timeout):
        raise _base.TimeoutError("no room for a new task: %d pending after %s s"
                                 % (max_pending, pending_timeout))


def check_open(executor):
    """What submit raises on a cluster executor that cannot take work: the
    stdlib's BrokenExecutor (with the executor's message) once broken, its
    RuntimeError after shutdown. Called before and again under the lock."""
    if executor._broken:
        raise _base.BrokenExecutor(executor._broken)
    if executor._shutdown:
        raise RuntimeError("cannot schedule new futures after shutdown")


@contextlib.contextmanager
def admission(executor):
    """submit's common prologue on a cluster executor: open (check_open),
    a max_pending slot taken (take_slot), then the body runs under
    executor._lock, open checked again there. The slot is given back if
    the body raises (the task was not handed to the cluster)."""
    check_open(executor)
    take_slot(executor._slots, executor._max_pending, executor._pending_timeout)
    try:
        with executor._lock:
            check_open(executor)
            yield
    except BaseException:
        if executor._slots is not None:
            executor._slots.release()
        raise
