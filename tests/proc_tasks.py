"""Task functions for the process-pool tests: importable by name in worker
processes (spawn and forkserver import this module from sys.path)."""
import ctypes
import os
import signal
import time


def identity(x):
    return x


def square(x):
    return x * x


def add(a, b=0, *, c=0):
    return a + b + c


def pid(_=None):
    return os.getpid()


def raise_value_error(msg):
    raise ValueError(msg)


def raise_keyboard_interrupt():
    raise KeyboardInterrupt("from task")


def sleep_then(x, secs):
    time.sleep(secs)
    return x


def exit_process(code=1):
    os._exit(code)


def kill_self():
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(10)


def segfault():
    ctypes.string_at(0)


def return_unpicklable():
    return lambda: None


def big_result(n):
    return b"x" * n


def fail_initializer():
    raise RuntimeError("initializer fails")


_INIT = []


def record_init(value):
    _INIT.append(value)


def get_init():
    return list(_INIT)


class ErrorAtUnpickle:
    """Pickles fine; unpickling raises."""

    def __reduce__(self):
        return _raise_on_unpickle, ()


def _raise_on_unpickle():
    raise RuntimeError("cannot unpickle this")


def return_error_at_unpickle():
    return ErrorAtUnpickle()


class Unpicklable:
    def __reduce__(self):
        raise TypeError("Unpicklable cannot be pickled")


def sleep_forever():
    time.sleep(3600)


def record(path, x, secs=0.0):
    """Appends x to the file at path (one line per run), then sleeps."""
    with open(path, "a") as f:
        f.write("%d\n" % x)
    time.sleep(secs)
    return x


def exit_with(code):
    os._exit(code)


def call_after_file(path, fn, *args):
    """fn(*args) once path exists: a death the parent sets off when it is ready."""
    wait_for_file(path)
    return fn(*args)


def wait_for_file(path, value=None, limit=60.0):
    """Returns value once path exists (at most limit seconds): a task the
    test holds until it creates the file."""
    end = time.monotonic() + limit
    while not os.path.exists(path) and time.monotonic() < end:
        time.sleep(0.005)
    return value


# max_worker_memory (tests/test_max_worker_memory.py): memory a worker keeps.
_hoard = []


def rss():
    """This process's resident set in bytes (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def hoard(mb, result_size=0):
    """Keeps mb MiB in this process, touched (so resident); returns (pid, a
    result of result_size bytes)."""
    _hoard.append(b"x" * (mb << 20))
    return os.getpid(), b"r" * result_size


def hoard_then_raise(mb):
    _hoard.append(b"x" * (mb << 20))
    raise ValueError("hoarded %d MiB in %d" % (mb, os.getpid()))
