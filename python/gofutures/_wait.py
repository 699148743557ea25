"""wait() and as_completed(): the signatures of concurrent.futures, the
work done in Go (cshim/wait.c, core/waiter.go)."""
from concurrent.futures._base import ALL_COMPLETED

from . import _ext


def wait(fs, timeout=None, return_when=ALL_COMPLETED):
    """Wait for the futures in the given sequence to complete.

    Same contract as concurrent.futures.wait: returns a named 2-tuple of sets
    (done, not_done). Works on gofutures futures and on any other
    concurrent.futures.Future, mixed.
    """
    return _ext.load().wait(fs, timeout, return_when)


def as_completed(fs, timeout=None):
    """An iterator over the given futures that yields each as it completes.

    Same contract as concurrent.futures.as_completed: finished futures come
    first, duplicates once, TimeoutError('N (of M) futures unfinished') when
    the timeout (counted from the first next()) passes.
    """
    return _ext.load().as_completed(fs, timeout)
