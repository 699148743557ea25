"""RayExecutor: the concurrent.futures Executor API over Ray tasks (issue
17). Imported only when gofutures.RayExecutor is first read.

Each call is one Ray task of one remote trampoline (so any callable works,
not only functions). Completion comes from Ray itself: ObjectRef.future()
is completed by Ray's own completion callback, whose done-callback settles
the gofutures future (in Ray's callback thread). No thread per task; one
timer thread (a heap) serves every task_timeout. One watchdog thread per
executor (while tasks are pending, every 0.5 s) notices Ray going away under
it, which Ray reports to no callback: after ray.shutdown() a pending
ObjectRef's future is never completed.
"""
import heapq
import itertools
import threading
import time
from concurrent.futures import _base
from functools import partial

try:
    import ray
    import ray.exceptions
except ImportError as e:
    raise ImportError("gofutures.RayExecutor needs ray: pip install 'gofutures[ray]' "
                      "(Python 3.10+)") from e

from . import _backpressure, _mapbuf
from ._clusterutil import _Histogram, admission
from ._stats import Latency, PoolStats

__all__ = ("RayExecutor",)


def _trampoline(fn, args, kwargs):
    return fn(*args, **kwargs)


_remote = None


def _remote_trampoline():
    global _remote
    if _remote is None:
        _remote = ray.remote(_trampoline)
    return _remote


class _Timers:
    """One thread and one heap for every task's deadline."""

    def __init__(self):
        self._heap, self._cv, self._seq = [], threading.Condition(), itertools.count()
        self._thread = None

    def add(self, deadline, fn):
        with self._cv:
            heapq.heappush(self._heap, (deadline, next(self._seq), fn))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="gofutures-ray-timers")
                self._thread.start()
            self._cv.notify()

    def _run(self):
        while True:
            with self._cv:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._cv.wait(None if not self._heap else self._heap[0][0] - time.monotonic())
                _, _, fn = heapq.heappop(self._heap)
            fn()


_WATCH_EVERY = 0.5   # s between the watchdog's looks at Ray


def _ray_gone():
    """Why this process's Ray is gone, or None. Ray shut down (from outside
    the executor) or, for a Ray instance this process started, its GCS
    server or raylet process dead (the node's own Popen objects: Ray's
    Node.dead_processes, which the driver keeps)."""
    if not ray.is_initialized():
        return "Ray was shut down under it (ray.shutdown() or the driver disconnected)"
    node = getattr(ray._private.worker, "_global_node", None)
    if node is not None:
        try:
            dead = node.dead_processes()
        except Exception:
            dead = []
        for kind, proc in dead:
            if kind in ("gcs_server", "raylet"):
                return "the local Ray %s process died (exit status %s)" % (kind, proc.poll())
    return None


class RayExecutor(_base.Executor):
    """An Executor over Ray tasks. address: None starts (or joins) a local
    Ray instance with ray.init(); "ray://..." or "auto" joins a cluster.
    The executor shuts Ray down at shutdown only if it started it.
    max_pending/pending_timeout/task_timeout as DaskExecutor's (task_timeout
    counts from submit; the task is cancelled with force=True).
    max_retries: Ray's retries of a task whose worker died (Ray's default 3).
    A future counts as pending until its result arrives (as DaskExecutor's).
    Ray shut down under the executor (ray.shutdown() elsewhere), or the GCS
    server or raylet of a Ray this process started dying, breaks it: pending
    futures and later submits fail with BrokenExecutor.
    For loopback only, set RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 before ray is
    imported and pass _node_ip_address="127.0.0.1" (tests/cluster does).
    """

    def __init__(self, address=None, *, max_pending=None, pending_timeout=None, task_timeout=None,
                 max_retries=None, **init_kwargs):
        _backpressure.check(max_pending, pending_timeout)
        if task_timeout is not None and not task_timeout > 0:
            raise ValueError("task_timeout must be None or > 0")
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            init_kwargs.setdefault("include_dashboard", False)
            ray.init(address=address, **init_kwargs)
        from . import _ext
        self._Future = _ext.load().Future
        self._remote = _remote_trampoline()
        if max_retries is not None:
            self._remote = self._remote.options(max_retries=max_retries)
        self._max_pending, self._pending_timeout = max_pending, pending_timeout
        self._task_timeout = task_timeout
        self._slots = threading.BoundedSemaphore(max_pending) if max_pending else None
        self._timers = _Timers() if task_timeout is not None else None
        self._lock = threading.Lock()
        self._pending = {}   # id(gf) -> (gf, ref, t0)
        self._shutdown = False
        self._submitted = self._completed = self._failed = self._cancelled = 0
        self._high_water = 0
        self._hist = _Histogram()
        self._broken = None          # the BrokenExecutor message, once broken
        self._watch_cv = threading.Condition(self._lock)
        self._watchdog = None

    def submit(self, fn, /, *args, **kwargs):
        with admission(self):
            if not ray.is_initialized():
                # .remote() would quietly start a new local Ray instead.
                self._broken = "RayExecutor is broken: " + (_ray_gone() or "Ray is not initialized")
                raise _base.BrokenExecutor(self._broken)
            ref = self._remote.remote(fn, args, kwargs)
            gf = self._Future()
            entry = self._pending[id(gf)] = [gf, ref, time.monotonic(), False]
            self._submitted += 1
            self._high_water = max(self._high_water, len(self._pending))
            if self._watchdog is None:
                self._watchdog = threading.Thread(target=self._watch, daemon=True,
                                                  name="gofutures-ray-watchdog")
                self._watchdog.start()
            self._watch_cv.notify()
        gf.add_done_callback(self._on_gf_done)
        # Completed by Ray's own callback (its callback thread).
        ref.future().add_done_callback(partial(self._on_ray_done, entry))
        if self._timers is not None:
            self._timers.add(entry[2] + self._task_timeout, partial(self._on_timeout, entry))
        return gf
    submit.__doc__ = _base.Executor.submit.__doc__

    def map(self, fn, *iterables, timeout=None, chunksize=1, buffersize=None):
        """As the stdlib's (chunksize: that many calls per Ray task;
        buffersize as Python 3.14)."""
        return _mapbuf.chunked_map(self, fn, iterables, timeout, chunksize, buffersize)

    def _on_gf_done(self, gf):
        if gf.cancelled():
            with self._lock:
                entry = self._pending.get(id(gf))
            if entry is not None:
                try:
                    ray.cancel(entry[1])
                except Exception:
                    pass

    def _settle(self, entry, fn):
        # Settled once (entry[3]); a cancelled gf only counts.
        with self._lock:
            if entry[3]:
                return
            entry[3] = True
        gf = entry[0]
        if not gf.set_running_or_notify_cancel():
            with self._lock:
                self._cancelled += 1
            return
        ok = fn(gf)
        with self._lock:
            if ok:
                self._completed += 1
            else:
                self._failed += 1
            self._hist.add(time.monotonic() - entry[2])

    def _on_ray_done(self, entry, cfut):
        try:
            value = cfut.result()
        except ray.exceptions.RayTaskError as e:
            # The task's own exception: Ray wraps it; the caller gets the original type.
            cause = getattr(e, "cause", None)
            exc = cause if isinstance(cause, BaseException) else e
            self._settle(entry, lambda gf: gf.set_exception(exc) and False)
        except ray.exceptions.TaskCancelledError:
            if not entry[0].cancelled() and not entry[3]:
                entry[0].cancel()   # cancelled on the cluster by someone else
            self._settle(entry, lambda gf: False)
        except BaseException as e:   # WorkerCrashedError, ObjectLostError, ...
            self._settle(entry, lambda gf: gf.set_exception(e) and False)
        else:
            self._settle(entry, lambda gf: gf.set_result(value) or True)
        self._forget(entry)

    def _forget(self, entry):
        # The slot is released by whoever takes the entry out (Ray's
        # callback or the watchdog breaking the executor), once.
        with self._lock:
            gone = self._pending.pop(id(entry[0]), None)
        if gone is not None and self._slots is not None:
            self._slots.release()

    def _watch(self):
        # The watchdog: runs while something is pending (submit starts it
        # again after), so an idle executor has no thread holding it and a
        # dropped one is freed; stops when the executor breaks.
        while True:
            with self._lock:
                if not self._pending or self._broken:
                    self._watchdog = None
                    return
                self._watch_cv.wait(_WATCH_EVERY)
            why = _ray_gone()
            if why is not None:
                self._break(why)
                return

    def _break(self, why):
        """Every unsettled future fails with BrokenExecutor; so do later submits."""
        msg = "RayExecutor is broken: " + why
        with self._lock:
            if self._broken is None:
                self._broken = msg
            entries = list(self._pending.values())
        for entry in entries:
            self._settle(entry, lambda gf: gf.set_exception(_base.BrokenExecutor(msg)) and False)
            self._forget(entry)

    def _on_timeout(self, entry):
        if entry[3] or entry[0].done():
            return
        self._settle(entry, lambda gf: gf.set_exception(_base.TimeoutError(
            "task ran longer than task_timeout=%s s: cancelled on the cluster"
            % self._task_timeout)) and False)
        try:
            ray.cancel(entry[1], force=True)
        except Exception:
            pass

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._lock:
            self._shutdown = True
            entries = list(self._pending.values())
        if cancel_futures:
            # Ray does not tell which have started: every pending one is cancelled.
            for e in entries:
                e[0].cancel()
        with self._lock:
            self._watch_cv.notify()
        if wait:
            _base.wait([e[0] for e in entries])
            if self._owns_ray and ray.is_initialized():
                ray.shutdown()
    shutdown.__doc__ = _base.Executor.shutdown.__doc__

    def stats(self):
        """A PoolStats (kind 'ray'): running is not known (0; every pending
        task counts as queued); wait not measured; run is submit-to-result."""
        with self._lock:
            queued = sum(1 for e in self._pending.values() if not e[3])
            return PoolStats(
                kind="ray", name="", submitted=self._submitted, queued=queued, running=0,
                completed=self._completed, failed=self._failed, cancelled=self._cancelled,
                workers_alive=0, workers_started=0, workers_replaced=0, workers_died=0,
                queue_high_water=self._high_water, wait=Latency(0, 0.0, 0.0, 0.0, 0.0, 0.0),
                run=self._hist.latency())
