"""Loads the Go engine on first use.

Importing the extension starts the Go runtime, whose threads make CPython
3.12+ warn on every later os.fork(). So `import gofutures` does not import
it: the first executor, Future, wait() or as_completed() call does.
"""
import os
import sys
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
                if sys.version_info < (3, 10):
                    _keep_handlers_on_the_signal_stack(_gofutures)
    return _ext


def _keep_handlers_on_the_signal_stack(ext):
    """CPython 3.9's signal.signal() installs its handler without
    SA_ONSTACK (3.10+ sets it, bpo-43390); a signal that then lands on a Go
    thread runs the handler on a goroutine's stack and can corrupt it. So,
    on 3.9 only, each later signal.signal() is followed by setting the flag
    (cshim/module.c: onstack)."""
    import functools
    import signal

    install = signal.signal

    @functools.wraps(install)
    def signal_with_onstack(signalnum, handler):
        old = install(signalnum, handler)
        ext.onstack(int(signalnum), True)
        return old
    signal.signal = signal_with_onstack


def loaded():
    """Whether the Go engine is loaded and usable in this process: not in
    the child of a fork() made after loading (Go's threads are not there;
    entering Go would hang), where exit hooks must leave it alone."""
    return _ext is not None and _pid == os.getpid()


_bound = set()
_originals = {}   # (cls, name) -> the Python method the class was defined with


def core_methods(*names):
    """Class decorator: records the class's Python methods `names`, which
    bind_core_methods may replace by C (and only those: a method that a
    user or a test patched on the class meanwhile stays theirs)."""
    def record(cls):
        for name in names:
            _originals[cls, name] = cls.__dict__[name]
        return cls
    return record


def bind_core_methods(cls, core_type, names):
    """Makes each of cls's methods `names` the C CoreMethod that calls the
    same method of self._core (of core_type) without a Python frame
    (cshim/coremethod.c), once, when the first executor of cls is made. The
    Python method stays the fallback for self._core None (_fork.py) and
    gives the name, docstring and signature. On the class, not the
    instance: the call then holds the executor, as the stdlib's does. A
    method patched on the class before then (mock.patch.object, a tracer)
    is left in place: it is no longer the one core_methods recorded."""
    if cls in _bound:
        return
    ext = load()
    with _lock:
        if cls in _bound:
            return
        for name in names:
            fallback = _originals[cls, name]
            if cls.__dict__.get(name) is fallback:
                setattr(cls, name, ext.CoreMethod(getattr(core_type, name), fallback))
        _bound.add(cls)
