"""Tasks for the cluster tests: imported by name on the dask workers and in
the ProcessPoolExecutor children (conftest.py puts this folder on their
PYTHONPATH)."""
import os
import time


class TaskError(Exception):
    pass


def square(x):
    return x * x


def add(x, y=0, *, key=None, pure=None):
    # key/pure: keywords that Client.submit also has, passed to the task.
    return (x + y, key, pure)


def fail(kind, x):
    if kind == "value":
        raise ValueError("bad value %r" % (x,))
    if kind == "key":
        raise KeyError(x)
    if kind == "zero":
        return x / 0
    raise TaskError("task error", x)


def maybe_fail(x):
    if x % 7 == 3:
        raise ValueError(x)
    return -x


def wait_event(name, timeout=60):
    """Blocks until the dask Event `name` is set (bounded)."""
    from distributed import Event
    return Event(name).wait(timeout)


def report_and_wait(queue_name, event_name, timeout=60):
    """Puts this worker's pid on a dask Queue, then waits for an Event."""
    from distributed import Event, Queue
    Queue(queue_name).put(os.getpid())
    return Event(event_name).wait(timeout)


def sleep(t):
    time.sleep(t)
    return t


# Helpers of the tests (not tasks).

def outcome(f):
    try:
        return ("ok", f.result(timeout=60))
    except Exception as e:
        return ("exc", type(e), e.args)


def drain(it):
    """The values an iterator yields, then (type, args) of what it raised."""
    out = []
    try:
        for v in it:
            out.append(v)
    except Exception as e:
        out.append((type(e), e.args))
    return out


WORK = [(square, (3,)), (fail, ("value", 1)), (fail, ("key", "k")),
        (fail, ("zero", 2)), (fail, ("task", 5)), (add, (1, 2)), (square, (-4,))]
