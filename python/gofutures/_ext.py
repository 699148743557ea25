"""Loads the Go engine on first use.

Importing the extension starts the Go runtime, whose threads make CPython
3.12+ warn on every later os.fork(). So `import gofutures` does not import
it: the first executor, Future, wait() or as_completed() call does.
"""
import os
import threading

_lock = threading.Lock()
_ext = None
_pid = None   # the process that loaded the engine
# Set before the extension is imported: a fork() racing with the import
# (Go's runtime may already be running) must count as "loaded" (_fork.py).
_started = False


def load():
    """Returns the extension module gofutures._gofutures, importing it once."""
    global _ext, _pid, _started
    if _ext is None:
        with _lock:
            if _ext is None:
                _started = True
                from . import _gofutures
                _pid = os.getpid()
                _ext = _gofutures
    return _ext


def loaded():
    """Whether the Go engine is loaded and usable in this process: not in
    the child of a fork() made after loading (Go's threads are not there;
    entering Go would hang), where exit hooks must leave it alone."""
    return _ext is not None and _pid == os.getpid()
