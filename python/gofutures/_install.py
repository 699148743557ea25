"""install()/uninstall(): make concurrent.futures use gofutures.

install() points concurrent.futures' executors, wait and as_completed (in
the package and in the submodules user code imports them from) at gofutures.
It leaves concurrent.futures.Future alone: libraries subclass the stdlib's
Future and drive its private protocol (_state, _condition, _waiters,
_invoke_callbacks) from their subclasses, and that keeps working; gofutures'
executors return gofutures futures (themselves instances of
concurrent.futures.Future), and gofutures' wait/as_completed accept both.
ProcessPoolExecutor is replaced only where gofutures has one (the module
gofutures.process); otherwise the stdlib's stays. It does not load the Go
engine. InterpreterPoolExecutor (3.14+) stays the stdlib's, and keeps
working: it subclasses the stdlib's ThreadPoolExecutor (see
_interpreter_pool()).
"""
import importlib
import importlib.util
import sys
import threading

_lock = threading.Lock()
_saved = None


def _targets():
    import concurrent.futures as cf
    import concurrent.futures._base as cf_base
    import concurrent.futures.thread as cf_thread
    from . import _wait, thread
    targets = [
        (cf, "ThreadPoolExecutor", thread.ThreadPoolExecutor),
        (cf_thread, "ThreadPoolExecutor", thread.ThreadPoolExecutor),
        (cf, "wait", _wait.wait),
        (cf_base, "wait", _wait.wait),
        (cf, "as_completed", _wait.as_completed),
        (cf_base, "as_completed", _wait.as_completed),
    ]
    # Optional until gofutures has a process pool. An error inside an
    # existing gofutures.process propagates: only its absence is tolerated.
    if importlib.util.find_spec(__package__ + ".process") is not None:
        process = importlib.import_module(__package__ + ".process")
        import concurrent.futures.process as cf_process
        targets += [
            (cf, "ProcessPoolExecutor", process.ProcessPoolExecutor),
            (cf_process, "ProcessPoolExecutor", process.ProcessPoolExecutor),
        ]
    return targets


def _interpreter_pool():
    """concurrent.futures.interpreter, imported; None where the stdlib has no
    InterpreterPoolExecutor (before 3.14, or built without subinterpreters).
    Its class statement subclasses concurrent.futures.thread.ThreadPoolExecutor
    as the module attribute is when it first runs, and its workers need the
    stdlib's (WorkerContext, prepare_context): install() imports it before
    pointing that attribute at gofutures'."""
    if sys.version_info < (3, 14):
        return None
    try:
        import _interpreters  # noqa: F401
        from concurrent.futures import interpreter
    except ImportError:
        return None
    return interpreter


def install():
    """Make concurrent.futures use gofutures' engine. Idempotent."""
    global _saved
    with _lock:
        if _saved is not None:
            return
        _interpreter_pool()
        targets = _targets()
        _saved = [(mod, name, mod.__dict__.get(name, _MISSING)) for mod, name, _ in targets]
        for mod, name, new in targets:
            setattr(mod, name, new)


def uninstall():
    """Restore the stdlib's concurrent.futures. Idempotent."""
    global _saved
    with _lock:
        if _saved is None:
            return
        for mod, name, old in _saved:
            if old is _MISSING:
                mod.__dict__.pop(name, None)
            else:
                setattr(mod, name, old)
        _saved = None


def installed():
    return _saved is not None


_MISSING = object()
