"""ThreadPoolExecutor on the Go scheduler.

The executor object is Python (a subclass of the stdlib's, so isinstance
checks and asyncio's set_default_executor accept it), but nothing per task
runs here: `executor.submit` is bound to the C method of the Go-scheduled
core (cshim/threadpool.c), and worker threads spend their whole life in its
C run loop. Python runs only once per pool (creation, shutdown) and once per
worker thread (start, initializer).
"""
import contextvars
import itertools
import math
import operator
import os
import sys
import threading
import time
import weakref

from concurrent.futures import _base
from concurrent.futures import thread as _stdlib_thread
from concurrent.futures.thread import BrokenThreadPool  # noqa: F401  (re-exported)

from . import _backpressure, _ext, _fork, _install, _mapbuf, _stats

# Live cores and their worker threads, for interpreter exit.
_pools = weakref.WeakKeyDictionary()
_shutdown = False
_global_shutdown_lock = threading.Lock()


def _python_exit():
    """At interpreter exit: refuse new work, let queued work finish, join the
    workers (what the stdlib does for its own pools)."""
    global _shutdown
    with _global_shutdown_lock:
        _shutdown = True
    if not _ext.loaded():
        return
    _ext.load().set_interpreter_shutdown()
    items = list(_pools.items())
    for core, _ in items:
        core.exit()
    for _, threads in items:
        for t in list(threads):
            t.join()


threading._register_atexit(_python_exit)


def _after_fork_in_child():
    """A forked child has only the forking thread, and a Go runtime that
    hangs when entered: the parent's pools are not the child's to stop, so
    its exit (multiprocessing's fork workers run the atexit hooks above)
    must not reach Go. A fresh lock, as the stdlib does (bpo-45021)."""
    global _global_shutdown_lock
    _global_shutdown_lock = threading.Lock()
    _pools.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

_cpu_count = getattr(os, "process_cpu_count", os.cpu_count)


def _worker(core, initializer, initargs, threads):
    # In the pool's thread set before its first task runs (start() may
    # return after it), so a task calling shutdown(wait=True) on its own
    # pool meets the stdlib's "cannot join current thread".
    threads.add(threading.current_thread())
    if initializer is not None:
        try:
            initializer(*initargs)
        except BaseException:
            _base.LOGGER.critical('Exception in initializer:', exc_info=True)
            core.initializer_failed()
            return
    core.run_worker()  # returns when the pool is shut down and drained


def _check_context(context):
    """context= of ThreadPoolExecutor: None (the stdlib's behaviour) or
    "copy". A wrong type is a TypeError, a wrong string a ValueError, as
    the stdlib tells initializer and max_workers errors apart."""
    if context is None:
        return
    if not isinstance(context, str):
        raise TypeError("context must be None or 'copy', not %s" % type(context).__name__)
    if context != "copy":
        raise ValueError("context must be None or 'copy', not %r" % (context,))


def _check_priority(priority):
    """submit_with_priority's check where the C core does not run (the fork
    fallback): the same TypeError / OverflowError as cshim's."""
    try:
        value = operator.index(priority)
    except TypeError:
        raise TypeError("priority must be an integer, not %r"
                        % type(priority).__name__) from None
    if not -2**63 <= value < 2**63:
        raise OverflowError("priority must fit in a signed 64-bit integer, not %r" % (priority,))


def _thread_limit(max_workers):
    """The worker count the stdlib's `len(threads) < max_workers` allows,
    as a C ssize_t: fractional bounds round up, inf and huge ints mean no
    practical bound, NaN never compares true (no worker starts)."""
    if isinstance(max_workers, float):
        if math.isnan(max_workers):
            return 0
        if math.isinf(max_workers):
            return sys.maxsize
    limit = max_workers if isinstance(max_workers, int) else math.ceil(max_workers)
    return min(limit, sys.maxsize)


class _Spawner:
    """Starts worker threads for a core; holds no reference to the executor,
    so an executor dropped without shutdown() can be collected."""
    __slots__ = ("threads", "prefix", "initializer", "initargs", "executor_ref")

    def __init__(self, threads, prefix, initializer, initargs):
        self.threads = threads
        self.prefix = prefix
        self.initializer = initializer
        self.initargs = initargs

    def __call__(self, core):
        name = '%s_%d' % (self.prefix, len(self.threads))
        t = threading.Thread(name=name, target=_worker,
                             args=(core, self.initializer, self.initargs, self.threads))
        t.start()
        self.threads.add(t)


class _ThreadPoolType(type):
    """While install() has made gofutures' class concurrent.futures.ThreadPoolExecutor,
    the stdlib's own thread pools (InterpreterPoolExecutor on 3.14+, a pool
    made before install()) are still instances of it, so that checks against
    that name (asyncio's set_default_executor) keep accepting them."""

    def __instancecheck__(cls, obj):
        if type.__instancecheck__(cls, obj):
            return True
        # The stdlib's class itself (the module attribute is gofutures' then).
        return (cls is ThreadPoolExecutor and _install.installed()
                and isinstance(obj, cls.__bases__[0]))


@_ext.core_methods("submit", "submit_with_priority")
class ThreadPoolExecutor(_stdlib_thread.ThreadPoolExecutor, metaclass=_ThreadPoolType):
    """concurrent.futures.ThreadPoolExecutor, scheduled by the Go core."""

    _counter = itertools.count().__next__

    def __init__(self, max_workers=None, thread_name_prefix='',
                 initializer=None, initargs=(), *, max_pending=None, pending_timeout=None,
                 context=None):
        """Initializes a new ThreadPoolExecutor instance.

        Args:
            max_workers: The maximum number of threads that can be used to
                execute the given calls.
            thread_name_prefix: An optional name prefix to give our threads.
            initializer: A callable used to initialize worker threads.
            initargs: A tuple of arguments to pass to the initializer.
            context: gofutures only. None (the default): tasks run in the
                worker thread's context, as in the stdlib. "copy": each
                task runs in its own copy of the contextvars context of
                the submit()/map() call that made it.
        """
        _backpressure.check(max_pending, pending_timeout)
        _check_context(context)
        self._task_context = context
        if _fork.active:
            # A child forked after Go was loaded: the stdlib's pool (_fork.py).
            self._core = None
            super().__init__(max_workers, thread_name_prefix, initializer, initargs)
            if max_pending is not None:
                # Backpressure there is the Python gate (_backpressure.py).
                self.submit = _backpressure.gate(self.submit, max_pending, pending_timeout)
            return
        if max_workers is None:
            max_workers = min(32, (_cpu_count() or 1) + 4)
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")

        self._max_workers = max_workers
        self._threads = set()
        self._shutdown_lock = threading.Lock()
        self._thread_name_prefix = (thread_name_prefix or
                                    ("ThreadPoolExecutor-%d" % self._counter()))
        self._initializer = initializer
        self._initargs = initargs

        limit = _thread_limit(max_workers)
        spawner = _Spawner(self._threads, self._thread_name_prefix, initializer, initargs)
        core = _ext.load().ThreadPool(limit, spawner, context == "copy")
        self._core = core
        _pools[core] = self._threads
        _stats.name_pool(core, self._thread_name_prefix)
        # Dropped without shutdown(): let idle workers exit once the queue drains.
        spawner.executor_ref = weakref.ref(self, lambda _, core=core: core.shutdown(False))
        # Per-task path straight into C: no Python frame on submit.
        _ext.bind_core_methods(ThreadPoolExecutor, type(core), ("submit", "submit_with_priority"))
        if max_pending is not None:
            # Backpressure (gofutures, opt-in): submit waits for room in C,
            # the slot held by the task's Go future (cshim/gate.c).
            core.set_gate(max_pending, pending_timeout)

    # Once an executor was made, the class's submit is the C CoreMethod over
    # self._core.submit (_ext.bind_core_methods); this stays its fallback.
    def submit(self, fn, /, *args, **kwargs):
        if self._core is None:
            if self._task_context == "copy":   # the fork fallback: the same semantics in Python
                return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)
            return super().submit(fn, *args, **kwargs)
        return self._core.submit(fn, *args, **kwargs)
    submit.__doc__ = _base.Executor.submit.__doc__

    def submit_with_priority(self, priority, fn, /, *args, **kwargs):
        """Like submit(), with a priority (gofutures only): among the queued
        tasks, lower numbers run first, ties in submission order; submit()'s
        tasks have priority 0. priority is an int in the signed 64-bit range
        (else TypeError / OverflowError, and nothing is submitted). The Go
        scheduler keeps the order; a task already running is not preempted.

        The priority is a positional argument before fn, so it can never
        collide with a keyword argument of fn's own.
        """
        if self._core is None:   # the fork fallback: the stdlib's FIFO
            _check_priority(priority)
            return self.submit(fn, *args, **kwargs)
        return self._core.submit_with_priority(priority, fn, *args, **kwargs)

    def map(self, fn, *iterables, timeout=None, chunksize=1, buffersize=None):
        """Returns an iterator equivalent to map(fn, iter), as the stdlib's.

        buffersize (gofutures, as Python 3.14): at most that many calls
        submitted and not yet yielded; the input is consumed lazily.
        """
        _mapbuf.check_buffersize(buffersize)
        if self._core is None and buffersize is None:
            return super().map(fn, *iterables, timeout=timeout, chunksize=chunksize)
        if self._task_context == "copy" and buffersize is not None:
            # The calls submitted later, from next(), run in copies of the
            # context of this map() call too (mapiter.c enters this copy
            # around those submits), not of the thread iterating.
            end_time = None if timeout is None else timeout + time.monotonic()
            return _ext.load().map_submit(self.submit, fn, iterables, end_time, buffersize,
                                          self, contextvars.copy_context())
        return _mapbuf.map_results(self, self.submit, fn, iterables, timeout, buffersize)

    def shutdown(self, wait=True, *, cancel_futures=False):
        if self._core is None:
            return super().shutdown(wait, cancel_futures=cancel_futures)
        self._core.shutdown(cancel_futures)
        if wait:
            for t in list(self._threads):
                t.join()
    shutdown.__doc__ = _base.Executor.shutdown.__doc__

    def stats(self):
        """A consistent snapshot of this pool's statistics (gofutures.PoolStats),
        counted by the Go scheduler."""
        return _stats.executor_stats(self._core)

    @property
    def _shutdown(self):
        if self._core is None:
            return self.__dict__.get("_fallback_shutdown", False)
        return self._core.counts()["shutdown"]

    # The stdlib's flag (False, or the message once an initializer failed);
    # code waiting for a pool to break polls it. The state is the core's.
    _BROKEN_MSG = ('A thread initializer failed, the thread pool '
                   'is not usable anymore')

    @property
    def _broken(self):
        if self._core is None:
            return self.__dict__.get("_fallback_broken", False)
        return self._BROKEN_MSG if self._core.counts()["broken"] else False

    @_broken.setter
    def _broken(self, value):
        if self._core is None:   # the stdlib's code (the fork fallback)
            self.__dict__["_fallback_broken"] = value
        elif value:
            self._core.initializer_failed()

    @_shutdown.setter
    def _shutdown(self, value):
        # Only the stdlib's code (the fork fallback) assigns it.
        self.__dict__["_fallback_shutdown"] = value

    def _adjust_thread_count(self):
        if self._core is None:
            return super()._adjust_thread_count()
        # else the Go scheduler starts workers (stdlib hook kept for subclasses)

    def _initializer_failed(self):
        if self._core is None:
            return super()._initializer_failed()
        self._core.initializer_failed()
