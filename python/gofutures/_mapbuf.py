"""Executor.map(..., buffersize=N) as in Python 3.14 (gh-74028), on every
supported version: at most N tasks submitted and not yet yielded, input
consumed lazily, so an endless or huge iterable runs in bounded memory.

Opt-in, so it is a Python generator; map() without buffersize stays the C
engine (cshim/mapiter.c).
"""
import collections
import itertools
import time
import weakref



def check_buffersize(buffersize):
    """The validation (types and messages) of 3.14's Executor.map."""
    if buffersize is not None and not isinstance(buffersize, int):
        raise TypeError("buffersize must be an integer or None")
    if buffersize is not None and buffersize < 1:
        raise ValueError("buffersize must be None or > 0")


def _result_or_cancel(fut, timeout=None):
    try:
        try:
            return fut.result(timeout)
        finally:
            fut.cancel()
    finally:
        del fut  # no reference kept to a yielded future


def buffered_map(executor, fn, iterables, timeout, buffersize):
    """The iterator of executor.map(fn, *iterables, timeout=timeout,
    buffersize=buffersize); submits through executor.submit."""
    end_time = None if timeout is None else timeout + time.monotonic()
    args_iter = zip(*iterables)
    fs = collections.deque(executor.submit(fn, *args)
                           for args in itertools.islice(args_iter, buffersize))
    # A weak reference, so the executor can be collected while the iterator lives.
    executor_ref = weakref.ref(executor)

    def result_iterator():
        try:
            fs.reverse()
            while fs:
                ex = executor_ref()
                if ex is not None:
                    args = next(args_iter, None)
                    if args is not None:
                        fs.appendleft(ex.submit(fn, *args))
                del ex
                if end_time is None:
                    yield _result_or_cancel(fs.pop())
                else:
                    yield _result_or_cancel(fs.pop(), end_time - time.monotonic())
        finally:
            for f in fs:
                f.cancel()
    return result_iterator()

