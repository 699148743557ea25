"""ProcessPoolExecutor with a Go dispatcher.

The parent's side of the pool is Go (core/procpool.go): the task queue, the
pipes to the workers and their framing, in-flight bookkeeping, result
demultiplexing, worker-death detection. `executor.submit` is the C method of
the pool's core (cshim/procpool.c), which pickles the call and hands the
bytes to Go. Results stay in Go as bytes until a thread asks a future for
them.

Python runs here only once per pool (creation, shutdown) and once per
worker process (start and join, through the multiprocessing context, so
fork, spawn and forkserver all work as in the stdlib). A pool's service
thread blocks in Go and wakes only to run done-callbacks of completed
futures, start or join workers, or terminate them when the pool broke.
The worker processes run python/gofutures/_worker.py, which never enters Go.
"""
import itertools
import multiprocessing as mp
import os
import signal
import sys
import threading
import weakref
from multiprocessing import forkserver, resource_tracker

from concurrent.futures import _base
from concurrent.futures import process as _stdlib_process
from concurrent.futures.process import BrokenProcessPool  # noqa: F401  (re-exported)

from . import _backpressure, _ext, _fork, _mapbuf, _stats, _worker
from .thread import _check_priority

_cpu_count = getattr(os, "process_cpu_count", os.cpu_count)

# terminate_workers()/kill_workers()'s operations: the stdlib's names on 3.14+
# (its tests mock _force_shutdown and compare them), the same strings before.
_TERMINATE = getattr(_stdlib_process, "_TERMINATE", "terminate")
_KILL = getattr(_stdlib_process, "_KILL", "kill")
_FORCE_OPERATIONS = (_TERMINATE, _KILL)

# Live controllers, for interpreter exit.
_controllers = weakref.WeakSet()
_global_shutdown = False
_counter = itertools.count().__next__

# Tasks handed to one worker before its previous ones finished, so that its
# pipe never runs dry. Cancelling is refused once a task is handed over (it
# is RUNNING, as in the stdlib's call queue).
_PREFETCH = int(os.environ.get("GOFUTURES_PREFETCH", "2"))

# A broken pool's cause names the dead worker: from 3.15 in the stdlib's
# words (_terminate_broken: every worker that ended with a non-zero exit
# code), before in gofutures' own.
_STDLIB_EXIT_CAUSE = sys.version_info >= (3, 15)
# 3.14+ (gh-152967): no replacement worker starts for a garbage-collected
# executor, and with none left its queued calls fail with this message
# (3.9-3.13's stdlib waits for ever; gofutures runs them there).
_REFUSE_WHEN_GONE = sys.version_info >= (3, 14)
_GONE_MESSAGE = ("The ProcessPoolExecutor was garbage collected with work pending after "
                 "its last worker process exited upon reaching max_tasks_per_child; the "
                 "pending work can never be run.")


def _python_exit():
    """At interpreter exit: refuse new work, let submitted work finish, join
    the service threads and the workers (what the stdlib does). An exit by
    an uncaught KeyboardInterrupt ends the workers at once instead."""
    global _global_shutdown
    _global_shutdown = True
    if not _ext.loaded():
        return
    _ext.load().set_interpreter_shutdown()
    ctls = list(_controllers)
    interrupted = _exit_by_interrupt()
    for ctl in ctls:
        if interrupted:
            ctl.interrupt()
        else:
            core = ctl.core_ref()
            if core is not None:
                core.shutdown(False)
    try:
        for ctl in ctls:
            ctl.join()
    except KeyboardInterrupt:
        # Ctrl-C while the exit waits for running tasks: end them now, as
        # an exit by the interrupt would, then let it propagate.
        for ctl in ctls:
            ctl.interrupt()
        for ctl in ctls:
            ctl.join()
        raise


def _exit_by_interrupt():
    """Whether the interpreter exits because of an uncaught KeyboardInterrupt
    (Ctrl-C). The interpreter prints an uncaught exception (PyErr_Print)
    before it finalizes, and printing it sets sys.last_value (and
    sys.last_exc, 3.12+); a caught interrupt sets neither. Not in an
    interactive session, where they stay from any earlier error."""
    if hasattr(sys, "ps1") or sys.flags.interactive:
        return False
    return _is_interrupt(getattr(sys, "last_exc", None) or getattr(sys, "last_value", None))


def _is_interrupt(exc):
    """A KeyboardInterrupt, but not one a task raised (re-raised by
    result() with the worker's traceback as its cause): that one is an
    ordinary exception, as in the stdlib."""
    return (isinstance(exc, KeyboardInterrupt)
            and not isinstance(exc.__cause__, _stdlib_process._RemoteTraceback))


threading._register_atexit(_python_exit)


def _exit_cause(procs, pid):
    """The broken pool's cause text for worker pid, whose pipe closed ("":
    none): it is joined first, as multiprocessing alone knows a forkserver
    worker's exit status (Go's waitid sees only our own children)."""
    p = procs.get(pid)
    if p is not None:
        p.join(5)   # it is ending (its pipe closed): the status follows within moments
    if _STDLIB_EXIT_CAUSE:
        # As 3.15's _terminate_broken: no cause if none ended with a non-zero code.
        return "\n".join("Process %d terminated abruptly with exit code %d" % (q.pid, q.exitcode)
                         for q in list(procs.values())
                         if q.exitcode is not None and q.exitcode != 0)
    code = None if p is None else p.exitcode
    if code is None:
        return "worker process %d terminated abruptly\n" % pid
    how = "exit code %d" % code
    if code < 0:
        try:
            how = "signal " + signal.Signals(-code).name
        except ValueError:
            how = "signal %d" % -code
    return "worker process %d terminated abruptly with %s\n" % (pid, how)


def _check_retire_limit(name, value):
    """max_tasks_per_child's checks, in the stdlib's words; max_worker_memory
    takes the same."""
    if not isinstance(value, int):
        raise TypeError("%s must be an integer" % name)
    elif value <= 0:
        raise ValueError("%s must be >= 1" % name)


def _refuse_fork(name, mp_context):
    """The stdlib refuses max_tasks_per_child with the fork start method: a
    replacement worker would be forked at any time by the pool's thread
    while other threads run. max_worker_memory replaces workers the same
    way, so it is refused the same (see README)."""
    if mp_context.get_start_method(allow_none=False) == "fork":
        raise ValueError("%s is incompatible with the 'fork' multiprocessing start method;"
                         " supply a different mp_context." % name)


def _take_fd(conn):
    """The fd of a Connection's end, as a new descriptor the caller owns."""
    try:
        return os.dup(conn.fileno())
    finally:
        conn.close()


class _Controller:
    """What the Go dispatcher asks of Python: start and join worker processes
    (through the multiprocessing context), terminate them when the pool
    broke. Holds no reference to the executor, so an executor dropped without
    shutdown() can be collected."""

    def __init__(self, ctx, initializer, initargs, name, max_memory=None):
        self.ctx = ctx
        self.max_memory = max_memory
        self.fork = ctx.get_start_method(allow_none=False) == "fork"
        self.initializer = initializer
        self.initargs = initargs
        self.name = name
        self.core_ref = None       # weakref to the C pool, set by the executor
        self.executor_ref = None   # weakref to the executor: shuts the pool down when it goes
        self.thread = None
        self.lock = threading.Lock()
        self.started_all = False
        self.refuse_when_gone = False   # 3.14+ with max_tasks_per_child: see spawn()

    # -- called by the C core (submit, service thread) --------------------
    def spawn(self, n):
        core = self.core_ref()
        if core is None:
            return
        if self.refuse_when_gone and self.executor_ref() is None:
            # A replacement for a retired worker of a collected executor: not
            # started (gh-152967); Go breaks the pool if none is left.
            for _ in range(n):
                core.spawn_refused(_GONE_MESSAGE)
            return
        if self.fork and not self.started_all:
            # As the stdlib does with fork: every worker at first use.
            self.started_all = True
            n += core.reserve(1 << 30)
        self._start_service(core)
        for i in range(n):
            try:
                self._spawn_one(core)
            except BaseException:
                for _ in range(i, n):
                    core.spawn_failed()
                raise

    def _spawn_one(self, core):
        task_r, task_w = mp.Pipe(duplex=False)
        result_r, result_w = mp.Pipe(duplex=False)
        close = (task_w.fileno(), result_r.fileno()) if self.fork else ()
        try:
            p = self.ctx.Process(target=_worker.run, name=None,
                                 args=(task_r, result_w, self.initializer, self.initargs, close,
                                       self.max_memory))
            # Ctrl-C must not reach a worker before _worker.run installs its
            # SIGINT handler (a spawn worker imports for a while first): the
            # child inherits this thread's signal mask through fork and exec,
            # run() unblocks SIGINT once its handler is in. Only this thread
            # blocks it; the signal still reaches this process through the
            # others. (multiprocessing's resource tracker is started so; as
            # starting it unblocks SIGINT, it is started first.) The
            # forkserver too, else it and every process it forks, the
            # user's own, would inherit the blocked SIGINT.
            if not self.fork:
                resource_tracker.ensure_running()
                if self.ctx.get_start_method() == "forkserver":
                    forkserver.ensure_running()
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT,))
            try:
                p.start()
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        except BaseException:
            for c in (task_r, task_w, result_r, result_w):
                c.close()
            raise
        # The child's ends are the child's now; the parent's ends go to Go,
        # which owns and closes them from here on.
        task_r.close()
        result_w.close()
        tw, rr = _take_fd(task_w), _take_fd(result_r)
        core.add_worker(p, tw, rr)

    def reap(self, pid):
        core = self.core_ref()
        procs = core.processes if core is not None else {}
        p = procs.pop(pid, None)
        if p is not None:
            p.join()

    def exited(self, pid):
        """Go saw worker pid end unexpectedly and waits for this answer (the
        broken pool's cause) before it breaks the pool."""
        core = self.core_ref()
        if core is None:
            return
        text = ""
        try:
            text = _exit_cause(core.processes, pid)
        finally:
            core.exit_cause(pid, text)   # Go waits for it (10 s at most)

    def broken(self, _=None):
        core = self.core_ref()
        if core is None:
            return
        # The stdlib terminates the remaining workers forcibly.
        for p in list(core.processes.values()):
            try:
                p.terminate()
            except Exception:
                pass

    def interrupt(self):
        """Ctrl-C: ends the pool at once. Queued tasks are cancelled; the
        pool is marked broken before its workers are terminated (SIGTERM),
        so their end is expected and the service thread ends; the futures of
        the interrupted calls fail with BrokenProcessPool, as with
        terminate_workers()."""
        core = self.core_ref()
        if core is None:
            return
        core.shutdown(True)
        core.break_pool()
        self.broken()

    # -- the service thread -----------------------------------------------
    def _start_service(self, core):
        with self.lock:
            if self.thread is None:
                t = threading.Thread(target=core.serve, name=self.name + "-service")
                t.start()
                self.thread = t
                _controllers.add(self)

    def join(self):
        t = self.thread
        if t is not None and t is not threading.current_thread():
            t.join()
        core = self.core_ref()
        if core is not None:
            for p in list(core.processes.values()):
                p.join()


@_ext.core_methods("submit", "submit_with_timeout", "submit_with_priority")
class ProcessPoolExecutor(_stdlib_process.ProcessPoolExecutor):
    """concurrent.futures.ProcessPoolExecutor, dispatched by the Go core."""

    def __init__(self, max_workers=None, mp_context=None,
                 initializer=None, initargs=(), *, max_tasks_per_child=None,
                 task_timeout=None, max_pending=None, pending_timeout=None,
                 max_worker_memory=None):
        """Initializes a new ProcessPoolExecutor instance.

        Args:
            max_workers: The maximum number of processes that can be used to
                execute the given calls. If None or not given then as many
                worker processes will be created as the machine has processors.
            mp_context: A multiprocessing context to launch the workers. This
                object should provide Process.
            initializer: A callable used to initialize worker processes.
            initargs: A tuple of arguments to pass to the initializer.
            max_tasks_per_child: The maximum number of tasks a worker process
                can complete before it will exit and be replaced with a fresh
                worker process (every supported Python version). Requires a
                non-'fork' start method; 'spawn' is used if no mp_context is
                given.
            task_timeout: gofutures only. If given, the most seconds any one
                call may run: past it, its worker process is killed and
                replaced, its future fails with TimeoutError, and the pool
                carries on. See also submit_with_timeout().
            max_worker_memory: gofutures only. If given, a number of bytes:
                a worker whose resident set (RSS) is above it after a task
                sends that task's outcome, exits and is replaced, as with
                max_tasks_per_child (either limit retires a worker). Checked
                after each task, not during one. Requires a non-'fork' start
                method; 'spawn' is used if no mp_context is given.
        """
        _backpressure.check(max_pending, pending_timeout)
        if max_worker_memory is not None:
            _check_retire_limit("max_worker_memory", max_worker_memory)   # the fork check below
        if _fork.active:
            # A child forked after Go was loaded: the stdlib's pool (_fork.py).
            self._core = None
            kw = {} if max_tasks_per_child is None else {"max_tasks_per_child": max_tasks_per_child}
            super().__init__(max_workers, mp_context, initializer, initargs, **kw)
            if max_pending is not None:
                # Backpressure there is the Python gate (_backpressure.py).
                self.submit = _backpressure.gate(self.submit, max_pending, pending_timeout)
            return
        if max_workers is None:
            max_workers = _cpu_count() or 1
        elif max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        self._max_workers = max_workers

        if mp_context is None:
            if max_tasks_per_child is not None or max_worker_memory is not None:
                mp_context = mp.get_context("spawn")
            else:
                mp_context = mp.get_context()
        self._mp_context = mp_context

        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        self._initializer = initializer
        self._initargs = initargs

        if max_tasks_per_child is not None:
            _check_retire_limit("max_tasks_per_child", max_tasks_per_child)
            _refuse_fork("max_tasks_per_child", mp_context)
        self._max_tasks_per_child = max_tasks_per_child
        if max_worker_memory is not None:
            _refuse_fork("max_worker_memory", mp_context)
        self._max_worker_memory = max_worker_memory
        if task_timeout is not None and not 0 < task_timeout <= 1e9:
            raise ValueError("task_timeout must be a positive number of seconds")
        self._task_timeout = task_timeout
        self._shutdown_lock = threading.Lock()
        self._cancel_pending_futures = False

        name = "ProcessPoolExecutor-%d" % _counter()
        ctl = _Controller(mp_context, initializer, initargs, name, max_worker_memory)
        core = _ext.load().ProcPool(max_workers, max_tasks_per_child or 0, _PREFETCH, ctl)
        ctl.core_ref = weakref.ref(core)
        ctl.refuse_when_gone = _REFUSE_WHEN_GONE and max_tasks_per_child is not None
        _stats.name_pool(core, name)
        self._core = core
        self._ctl = ctl
        # Dropped without shutdown(): workers finish the submitted work, then
        # quit, and the service thread ends. The weakref lives on the
        # controller (kept by the core), not on the executor: a weakref that
        # dies with its referent in a garbage cycle never calls back.
        ctl.executor_ref = weakref.ref(self, lambda _, core=core: core.shutdown(False))
        if task_timeout is not None:
            core.set_task_timeout(task_timeout)   # what core.submit gives each call
        # Per-task path straight into C: no Python frame on submit.
        _ext.bind_core_methods(ProcessPoolExecutor, type(core),
                               ("submit", "submit_with_timeout", "submit_with_priority"))
        if max_pending is not None:
            # Backpressure (gofutures, opt-in): submit waits for room in C,
            # the slot held by the task's Go future (cshim/gate.c).
            core.set_gate(max_pending, pending_timeout)   # submit_with_timeout too

    # Once an executor was made, the class's submit, submit_with_timeout and
    # submit_with_priority are C CoreMethods over self._core's
    # (_ext.bind_core_methods); these stay their fallbacks.
    def submit(self, fn, /, *args, **kwargs):
        if self._core is None:
            return super().submit(fn, *args, **kwargs)
        if self._task_timeout is not None:
            return self._core.submit_with_timeout(self._task_timeout, fn, *args, **kwargs)
        return self._core.submit(fn, *args, **kwargs)
    submit.__doc__ = _base.Executor.submit.__doc__

    def submit_with_timeout(self, timeout, fn, /, *args, **kwargs):
        """Like submit(), but fn(*args, **kwargs) may run at most `timeout`
        seconds (gofutures only). Past it, the worker process running it is
        killed and replaced, the future fails with TimeoutError, and the pool
        and the other tasks carry on. The clock starts when the call starts
        running on its worker; calls queued behind it on the killed worker
        never started, and run on another one.

        The timeout is a positional argument before fn, so it can never
        collide with a keyword argument of fn's own (a `timeout=` keyword on
        submit() would).

        In a child forked after the engine loaded, whose pools are the
        stdlib's, the timeout is checked but not applied (as task_timeout).
        """
        if self._core is None:   # the fork fallback: the stdlib's pool
            if not (isinstance(timeout, (int, float)) and 0 < timeout <= 1e9):
                raise ValueError("timeout must be a positive number of seconds, not %r" % (timeout,))
            return self.submit(fn, *args, **kwargs)
        return self._core.submit_with_timeout(timeout, fn, *args, **kwargs)

    def submit_with_priority(self, priority, fn, /, *args, **kwargs):
        """Like submit(), with a priority (gofutures only): among the tasks
        still queued, lower numbers are sent to a worker first, ties in
        submission order; submit()'s tasks have priority 0. priority is an
        int in the signed 64-bit range (else TypeError / OverflowError, and
        nothing is submitted). The pool's task_timeout applies.

        As the stdlib's call queue, up to max_workers + 1 calls are started
        ahead of the workers (RUNNING, no longer cancellable) in the order
        they were picked: priorities order only the calls not yet started.
        """
        if self._core is None:   # the fork fallback: the stdlib's FIFO
            _check_priority(priority)
            return self.submit(fn, *args, **kwargs)
        return self._core.submit_with_priority(priority, fn, *args, **kwargs)

    def map(self, fn, *iterables, timeout=None, chunksize=1, buffersize=None):
        """Returns an iterator equivalent to map(fn, iter).

        Args:
            fn: A callable that will take as many arguments as there are
                passed iterables.
            timeout: The maximum number of seconds to wait. If None, then there
                is no limit on the wait time.
            chunksize: If greater than one, the iterables will be chopped into
                chunks of size chunksize and submitted to the process pool.
                If set to one, the items in the list will be sent one at a time.

        Returns:
            An iterator equivalent to: map(func, *iterables) but the calls may
            be evaluated out-of-order.

        Raises:
            TimeoutError: If the entire result iterator could not be generated
                before the given timeout.
            Exception: If fn(*args) raises for any values.
        """
        if self._core is None and buffersize is None and chunksize >= 1:
            return super().map(fn, *iterables, timeout=timeout, chunksize=chunksize)
        # buffersize (gofutures, as Python 3.14): at most buffersize calls
        # (chunks) submitted and not yet yielded; the input is read lazily.
        return _mapbuf.chunked_map(self, fn, iterables, timeout, chunksize, buffersize)

    def shutdown(self, wait=True, *, cancel_futures=False):
        if self._core is None:
            return super().shutdown(wait, cancel_futures=cancel_futures)
        self._cancel_pending_futures = cancel_futures
        self._core.shutdown(cancel_futures)
        if wait:
            self._ctl.join()
    shutdown.__doc__ = _base.Executor.shutdown.__doc__

    def __exit__(self, exc_type, exc_val, exc_tb):
        # Ctrl-C out of a `with` block ends the pool at once (see
        # _Controller.interrupt); the workers ignore SIGINT (_worker.py), so
        # shutdown(wait=True) would otherwise wait for every running task.
        if self._core is not None and _is_interrupt(exc_val):
            self._ctl.interrupt()
        return super().__exit__(exc_type, exc_val, exc_tb)

    def stats(self):
        """A consistent snapshot of this pool's figures, read from the Go
        engine (gofutures only): tasks submitted, queued, running, completed,
        failed, cancelled; workers alive, started, replaced, died; the queue's
        high-water mark; queue-wait and run-time percentiles."""
        return _stats.executor_stats(self._core)

    def _force_shutdown(self, operation):
        """terminate_workers()/kill_workers(): the stdlib's (3.14) private
        entry point, with its operation names and its ValueError."""
        if operation not in _FORCE_OPERATIONS:
            raise ValueError(f"Unsupported operation: {operation!r}")
        if self._core is None and hasattr(_stdlib_process.ProcessPoolExecutor, "_force_shutdown"):
            return super()._force_shutdown(operation)   # a forked child's stdlib pool, 3.14+
        processes = dict(self._core.processes if self._core is not None else self._processes or {})
        self.shutdown(wait=False, cancel_futures=True)
        for p in processes.values():
            try:
                if not p.is_alive():
                    continue
                p.kill() if operation == _KILL else p.terminate()
            except (ValueError, ProcessLookupError):
                continue  # already ended

    def terminate_workers(self):
        """Attempts to terminate the executor's workers (SIGTERM), as
        Python 3.14's ProcessPoolExecutor.terminate_workers() does: pending
        work is cancelled, and a call still running fails with
        BrokenProcessPool. The pool is not usable afterwards."""
        return self._force_shutdown(operation=_TERMINATE)

    def kill_workers(self):
        """Attempts to kill the executor's workers (SIGKILL), as Python
        3.14's ProcessPoolExecutor.kill_workers() does: pending work is
        cancelled, and a call still running fails with BrokenProcessPool. The
        pool is not usable afterwards."""
        return self._force_shutdown(operation=_KILL)

    # The stdlib's introspection attributes, for code that reads them. In a
    # forked child's fallback (self._core is None) they are the stdlib's own
    # plain attributes, which its code assigns.
    def _fallback(name, live):
        def get(self):
            if self._core is None:
                return self.__dict__.get("_fb" + name)
            return live(self)

        def set_(self, value):
            if self._core is not None:
                raise AttributeError("%s is read-only on a gofutures pool" % name)
            self.__dict__["_fb" + name] = value
        return property(get, set_)

    _processes = _fallback("_processes", lambda self: self._core.processes)
    _broken = _fallback("_broken", lambda self: (
        'A child process terminated abruptly, the process pool is not usable anymore'
        if self._core.counts()["broken"] else False))
    _shutdown_thread = _fallback("_shutdown_thread", lambda self: self._core.counts()["shutdown"])
    _executor_manager_thread = _fallback("_executor_manager_thread", lambda self: self._ctl.thread)
    del _fallback
