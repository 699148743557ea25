"""gofutures: concurrent.futures with its engine written in Go.

The same API as concurrent.futures (Executor, ThreadPoolExecutor, Future,
wait, as_completed, the *_COMPLETED constants and the stdlib's exception
classes), so that changing the import, or calling gofutures.install(), is
all a program needs.

`import gofutures` does not load the Go engine; the first executor, Future,
wait() or as_completed() does (see _ext.py).

InterpreterPoolExecutor (3.14+, where the interpreter has subinterpreters)
is the stdlib's own class, re-exported: its workers each run a
subinterpreter, which gofutures' extension (one Go runtime, state tied to
the main interpreter) does not support; see the README.
"""
from concurrent.futures._base import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    BrokenExecutor,
    CancelledError,
    Executor,
    InvalidStateError,
    TimeoutError,
)
from concurrent.futures.thread import BrokenThreadPool
import sys as _sys

from . import _fork  # noqa: F401  (registers the after-fork switch to the stdlib)
from ._install import install, installed, uninstall, _interpreter_pool
from ._stats import Latency, PoolStats, stats
from ._wait import as_completed, wait
from .thread import ThreadPoolExecutor
from ._version import __version__

__all__ = (
    'FIRST_COMPLETED',
    'FIRST_EXCEPTION',
    'ALL_COMPLETED',
    'CancelledError',
    'TimeoutError',
    'InvalidStateError',
    'BrokenExecutor',
    'BrokenThreadPool',
    'Future',
    'Executor',
    'wait',
    'as_completed',
    'ThreadPoolExecutor',
    'ProcessPoolExecutor',
    'install',
    'uninstall',
    'stats',
    'PoolStats',
    'Latency',
    'DaskExecutor',
    'RayExecutor',
)


if _sys.version_info >= (3, 14):
    try:
        import _interpreters  # noqa: F401  (a built-in module: cheap)
        __all__ += ('InterpreterPoolExecutor',)   # as concurrent.futures' __all__
    except ImportError:
        pass


def __getattr__(name):
    # gofutures.Future is the extension's class: reading it loads the engine.
    if name == "Future":
        from . import _ext
        if _fork.active:   # a forked child: the stdlib's Future (_fork.py)
            from concurrent.futures import Future
            return Future
        return _ext.load().Future
    if name == "InterpreterPoolExecutor" and name in __all__:
        return _interpreter_pool().InterpreterPoolExecutor
    if name in ("ProcessPoolExecutor", "BrokenProcessPool"):
        # Imported on first use, as concurrent.futures does (multiprocessing).
        from . import process
        return getattr(process, name)
    if name == "DaskExecutor":
        # Optional (pip install gofutures[dask]): dask and distributed are
        # imported here, on first use, never by `import gofutures`.
        from ._dask import DaskExecutor
        return DaskExecutor
    if name == "RayExecutor":
        # Optional (pip install gofutures[ray]), imported on first use.
        from ._ray import RayExecutor
        return RayExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    lazy = {"Future", "ProcessPoolExecutor", "BrokenProcessPool", "DaskExecutor", "RayExecutor"}
    lazy |= set(__all__) & {"InterpreterPoolExecutor"}
    return sorted(set(globals()) | lazy)
