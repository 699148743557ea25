"""Tasks for the concurrency tier's process pools: importable by reference,
so that fork and spawn workers can run them."""
import os
import time


def _slow_restore(value, secs):
    # Runs in the parent while it unpickles a result: sleeping releases the
    # GIL, so another thread can read the same future meanwhile.
    time.sleep(secs)
    return SlowValue(value, secs)


class SlowValue:
    """A value whose unpickling takes a while (and lets other threads in)."""

    def __init__(self, value, secs):
        self.value, self.secs = value, secs

    def __reduce__(self):
        return _slow_restore, (self.value, self.secs)

    def __eq__(self, other):
        return isinstance(other, SlowValue) and other.value == self.value

    def __hash__(self):
        return hash(self.value)


def _slow_error(msg, secs):
    time.sleep(secs)
    return SlowError(msg, secs)


class SlowError(Exception):
    """An exception whose unpickling takes a while."""

    def __init__(self, msg, secs):
        super().__init__(msg)
        self.msg, self.secs = msg, secs

    def __reduce__(self):
        return _slow_error, (self.msg, self.secs)


def slow_value(x, secs=0.2):
    return SlowValue(x, secs)


def raise_slow_error(msg, secs=0.2):
    raise SlowError(msg, secs)


def identity(x):
    return x


def wait_for_file(path, value, limit=60.0):
    """Returns value once path exists (bounded): a task held by the test."""
    end = time.monotonic() + limit
    while not os.path.exists(path) and time.monotonic() < end:
        time.sleep(0.005)
    return value


_restores = []


def _counting_restore(x):
    _restores.append(x)
    return x


class CountsUnpickling:
    """Unpickles through _counting_restore, so the parent can count how often
    a result was unpickled."""

    def __init__(self, x):
        self.x = x

    def __reduce__(self):
        return _counting_restore, (self.x,)


def counts_unpickling(x):
    return CountsUnpickling(x)


def restores():
    return list(_restores)
