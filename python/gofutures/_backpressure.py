"""Backpressure (gh-73781): an executor made with max_pending=N holds at most
N tasks submitted and not yet done; submit() then blocks until one is done.
Opt-in; unbounded stays the default.

The engine's pools do it in C and Go (cshim/gate.c, core/gate.go): this
module checks the arguments, and gates the stdlib pool that stands in for
them in a child forked after the engine loaded (_fork.py). There the wait
is a threading.Semaphore's: it releases the GIL, Ctrl-C interrupts it in
the main thread, and pending_timeout bounds it with the stdlib's
TimeoutError. A slot is given back by the task's done-callback.
"""
import threading

from concurrent.futures import _base


def check(max_pending, pending_timeout):
    if max_pending is not None:
        if not isinstance(max_pending, int) or isinstance(max_pending, bool):
            raise TypeError("max_pending must be an integer or None")
        if max_pending < 1:
            raise ValueError("max_pending must be None or > 0")
    if pending_timeout is not None:
        if max_pending is None:
            raise ValueError("pending_timeout needs max_pending")
        if not pending_timeout >= 0:
            raise ValueError("pending_timeout must be None or >= 0")


def gate(submit, max_pending, pending_timeout):
    """submit, blocking while max_pending tasks are pending."""
    slots = threading.BoundedSemaphore(max_pending)

    def release(_):
        slots.release()

    def gated_submit(fn, /, *args, **kwargs):
        if not slots.acquire(True, pending_timeout):
            raise _base.TimeoutError(
                "no room for a new task: %d pending after %s s" % (max_pending, pending_timeout))
        try:
            f = submit(fn, *args, **kwargs)
        except BaseException:
            slots.release()
            raise
        f.add_done_callback(release)
        return f
    gated_submit.__doc__ = submit.__doc__
    return gated_submit
