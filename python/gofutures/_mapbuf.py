"""Executor.map(..., buffersize=N) as in Python 3.14 (gh-74028), on every
supported version: at most N tasks submitted and not yet yielded, input
consumed lazily, so an endless or huge iterable runs in bounded memory.

The iterator is the C engine's (cshim/mapiter.c, buffered mode); this module
holds what both pools share around it.
"""
import itertools
import time
from concurrent.futures.process import _chain_from_iterable_of_lists, _process_chunk
from functools import partial

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


def get_chunks(*iterables, chunksize):
    """The calls' arguments in tuples of chunksize (the stdlib's
    process._get_chunks, which 3.13 no longer has)."""
    it = zip(*iterables)
    while True:
        chunk = tuple(itertools.islice(it, chunksize))
        if not chunk:
            return
        yield chunk


def chunked_map(executor, fn, iterables, timeout, chunksize, buffersize):
    """executor.map for executors whose calls run elsewhere (process pools,
    clusters): chunksize > 1 sends that many calls as one task, run by the
    stdlib's _process_chunk (importable on any worker), and the results'
    lists are chained back in order."""
    if chunksize < 1:
        raise ValueError("chunksize must be >= 1.")
    check_buffersize(buffersize)
    if chunksize > 1:
        fn = partial(_process_chunk, fn)
        iterables = (get_chunks(*iterables, chunksize=chunksize),)
    results = map_results(executor, executor.submit, fn, iterables, timeout, buffersize)
    return _chain_from_iterable_of_lists(results) if chunksize > 1 else results
