"""Shared fixtures: most tests are differential, run once on the stdlib's
concurrent.futures and once on gofutures, comparing what users can see."""
import concurrent.futures as cf
import gc
import os
import re
import time
import types

import pytest

import gofutures


def _impl(name):
    if name == "stdlib":
        return types.SimpleNamespace(
            name="stdlib", Future=cf.Future, wait=cf.wait, as_completed=cf.as_completed,
            ThreadPoolExecutor=cf.ThreadPoolExecutor)
    return types.SimpleNamespace(
        name="gofutures", Future=gofutures.Future, wait=gofutures.wait,
        as_completed=gofutures.as_completed, ThreadPoolExecutor=gofutures.ThreadPoolExecutor)


STDLIB = _impl("stdlib")
GOFUTURES = _impl("gofutures")


@pytest.fixture(params=["stdlib", "gofutures"])
def impl(request):
    """Runs the test once per implementation."""
    return _impl(request.param)


def norm_repr(text):
    """A repr with its addresses replaced, so the two implementations compare."""
    return re.sub(r"0x[0-9a-f]+", "0xADDR", text)


def outcome(fn, *args, **kwargs):
    """What a call did, as a comparable value: ('ok', value) or
    ('raise', type name, message)."""
    try:
        return ("ok", fn(*args, **kwargs))
    except BaseException as e:  # noqa: B902 - the point is to compare them all
        return ("raise", type(e).__name__, norm_repr(str(e)))


def forked(child):
    """Runs child() in a forked process, which exits with the code child()
    returns (an int from 0 to 255, 0 when it saw what it should; 1 if it
    raised or returned anything else) and also writes that code on a pipe.
    Returns (the byte read from the pipe, the child's exit code)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            got = child()
            if type(got) is int and 0 <= got <= 255:
                code = got
        finally:
            try:
                os.write(w, bytes([code]))
            finally:
                os._exit(code)   # never back into pytest in the child
    os.close(w)
    _, status = os.waitpid(pid, 0)
    try:
        return os.read(r, 1), os.waitstatus_to_exitcode(status)
    finally:
        os.close(r)


def collect_until_gone(ref, rounds=100, pause=0.0):
    """gc.collect() until ref's object is gone, at most rounds times (pause
    seconds apart, if given); the caller asserts ref() is None after."""
    for _ in range(rounds):
        gc.collect()
        if ref() is None:
            return
        if pause:
            time.sleep(pause)
