"""wait() and as_completed(): the signatures of concurrent.futures, the
work done in Go (cshim/wait.c, core/waiter.go)."""
from concurrent.futures import _base
from concurrent.futures._base import ALL_COMPLETED

from . import _ext, _fork


def wait(fs, timeout=None, return_when=ALL_COMPLETED):
    """Wait for the futures in the given sequence to complete.

    Same contract as concurrent.futures.wait: returns a named 2-tuple of sets
    (done, not_done). Works on gofutures futures and on any other
    concurrent.futures.Future, mixed.
    """
    if _fork.active:   # a forked child: no Go here (_fork.py)
        return _base.wait(fs, timeout, return_when)
    return _ext.load().wait(fs, timeout, return_when)


def as_completed(fs, timeout=None):
    """An iterator over the given futures that yields each as it completes.

    Same contract as concurrent.futures.as_completed: finished futures come
    first, duplicates once, TimeoutError('N (of M) futures unfinished') when
    the timeout (counted from the first next()) passes.
    """
    if _fork.active:
        return _base.as_completed(fs, timeout)
    return _ext.load().as_completed(fs, timeout)
