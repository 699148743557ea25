"""Executor.map(..., buffersize=N) as in Python 3.14 (gh-74028), on every
supported version: at most N tasks submitted and not yet yielded, input
consumed lazily, so an endless or huge iterable runs in bounded memory.

The iterator is the C engine's (cshim/mapiter.c, buffered mode); this module
holds what both pools share around it.
"""
import time

from . import _ext


def check_buffersize(buffersize):
    """The validation (types and messages) of 3.14's Executor.map."""
    if buffersize is not None and not isinstance(buffersize, int):
        raise TypeError("buffersize must be an integer or None")
    if buffersize is not None and buffersize < 1:
        raise ValueError("buffersize must be None or > 0")


def map_results(executor, submit, fn, iterables, timeout, buffersize):
    """The iterator of executor.map(fn, *iterables, timeout=timeout,
    buffersize=buffersize): every call submitted through submit up front
    (buffersize None, as the stdlib), or at most buffersize of them, the rest
    through executor.submit as results are taken (executor held weakly)."""
    end_time = None if timeout is None else timeout + time.monotonic()
    if buffersize is None:
        return _ext.load().map_submit(submit, fn, iterables, end_time)
    return _ext.load().map_submit(submit, fn, iterables, end_time, buffersize, executor)
