"""DaskExecutor: the concurrent.futures Executor API over a dask.distributed
cluster (issue 17). Imported only when gofutures.DaskExecutor is first read;
`import gofutures` never imports dask or distributed.

How a task travels:
- submit() hands fn(*args) to Client.submit (non-blocking: the client's
  loop thread sends it) under a key of this executor's own, and returns a
  gofutures.Future that stays pending until the result is at the client.
- dask's Future.add_done_callback (run in dask's one callback thread)
  appends the finished dask future to a list; the first append of a batch
  schedules one drain coroutine on the client's loop, which gathers every
  finished result of the batch in one Client.gather.
- The outcomes go to this executor's one completer thread, which settles
  the gofutures futures (set_running_or_notify_cancel + set_result /
  set_exception). All settling happens there, so user callbacks never run
  in the loop thread, and our own completions never race each other.
No thread and no polling loop per task: one completer thread per executor,
dask's callback thread and its loop. task_timeout timers are the loop's
call_later (asyncio's one timer heap).
"""
import itertools
import threading
import time
import uuid
import weakref
from concurrent.futures import _base
from concurrent.futures import ThreadPoolExecutor as _StdThreadPool
from functools import partial

try:
    import distributed
except ImportError as e:   # the optional extra is not installed
    raise ImportError("gofutures.DaskExecutor needs dask.distributed: "
                      "pip install 'gofutures[dask]' (Python 3.10+)") from e

from . import _backpressure, _mapbuf
from ._clusterutil import _Histogram, admission
from ._stats import Latency, PoolStats

__all__ = ("DaskExecutor",)

# Outcome kinds handed from the loop to the completer thread.
_OK, _EXC, _CANCELLED, _LOST = range(4)

# The states in which the scheduler holds a task still to run (not yet a
# result in memory): what max_pending bounds (see the tests).
_SCHEDULER_RUN_STATES = ("released", "waiting", "queued", "no-worker", "processing")


class _Task:
    __slots__ = ("gf", "dfut", "t0", "settled")

    def __init__(self, gf, dfut, t0):
        self.gf = gf          # the gofutures.Future returned to the caller
        self.dfut = dfut      # dask's Future: holding it keeps the task on the cluster
        self.t0 = t0
        self.settled = False  # gf settled by us (only the completer thread sets it)


def _on_gf_done(executor_ref, key, gf):
    # Runs in the thread that completed or cancelled gf. A cancel() by the
    # caller (or by shutdown(cancel_futures=True)) cancels the dask task;
    # the slot is given back when dask confirms (its done-callback).
    if gf.cancelled():
        ex = executor_ref()
        if ex is not None:
            ex._cancel_on_cluster(key)


class DaskExecutor(_base.Executor):
    """An Executor over a dask.distributed cluster.

    client_or_address: a distributed.Client (used, not closed by shutdown),
    or a scheduler address such as "tcp://scheduler:8786", for which the
    executor opens a Client and closes it at shutdown.

    max_pending: at most that many tasks of this executor submitted and not
    yet done (held by the scheduler); submit() then blocks, up to
    pending_timeout seconds, then raises TimeoutError.
    task_timeout: a task not done that many seconds after it was handed to
    the scheduler (queueing on the cluster included: bound the queue with
    max_pending) is cancelled there and its future fails with TimeoutError.

    A future returned here counts as pending until its result arrives:
    running() is never True, and cancel() succeeds until then and cancels
    the task on the cluster (a call already running on a worker runs to
    its end there; its result is dropped).
    """

    def __init__(self, client_or_address, *, max_pending=None, pending_timeout=None,
                 task_timeout=None):
        _backpressure.check(max_pending, pending_timeout)
        if task_timeout is not None and not task_timeout > 0:
            raise ValueError("task_timeout must be None or > 0")
        if isinstance(client_or_address, distributed.Client):
            if client_or_address.asynchronous:
                raise ValueError("DaskExecutor needs a synchronous distributed.Client "
                                 "(asynchronous=False)")
            self._client, self._owns_client = client_or_address, False
        elif isinstance(client_or_address, str):
            self._client = distributed.Client(client_or_address, set_as_default=False)
            self._owns_client = True
        else:
            raise TypeError("DaskExecutor needs a distributed.Client or a scheduler address, not %r"
                            % type(client_or_address).__name__)
        from . import _ext
        self._Future = _ext.load().Future
        self._loop = self._client.loop
        self._address = self._client.scheduler.address if self._client.scheduler else None
        self._max_pending = max_pending
        self._pending_timeout = pending_timeout
        self._task_timeout = task_timeout
        self._slots = threading.BoundedSemaphore(max_pending) if max_pending else None
        self._lock = threading.Lock()
        self._tasks = {}                  # key -> _Task, until dask is done with it
        self._ready = []                  # dask futures done, not yet drained
        self._drain_scheduled = False
        self._prefix = "gofutures-%s-" % uuid.uuid4().hex[:12]
        self._counter = itertools.count()
        self._shutdown = False
        self._broken = None               # the BrokenExecutor message, once broken
        self._closed_client = False
        self._completer = _StdThreadPool(1, thread_name_prefix="gofutures-dask-completer")
        self._ref = weakref.ref(self)
        # Statistics, written by the completer thread (and submit) under _lock.
        self._submitted = self._completed = self._failed = self._cancelled = 0
        self._high_water = 0
        self._hist = _Histogram()

    # --- submission -------------------------------------------------------

    def submit(self, fn, /, *args, **kwargs):
        with admission(self):
            if self._client.status not in ("running", "newly-created"):
                self._broken = self._broken_message("the client is %s" % self._client.status)
                raise _base.BrokenExecutor(self._broken)
            if kwargs:
                # Client.submit has keywords of its own (key, pure, workers,
                # retries, ...): fn's keywords travel inside a partial.
                fn, args = partial(fn, *args, **kwargs), ()
            key = self._prefix + str(next(self._counter))
            gf = self._Future()
            # pure=False: every call runs (no deduplication by hashing args).
            dfut = self._client.submit(fn, *args, key=key, pure=False)
            task = self._tasks[key] = _Task(gf, dfut, time.monotonic())
            self._submitted += 1
            if len(self._tasks) > self._high_water:
                self._high_water = len(self._tasks)
        gf.add_done_callback(partial(_on_gf_done, self._ref, key))
        dfut.add_done_callback(self._on_dask_done)
        if self._task_timeout is not None:
            self._loop.add_callback(self._arm_timer, key)
        del task
        return gf
    submit.__doc__ = _base.Executor.submit.__doc__

    def map(self, fn, *iterables, timeout=None, chunksize=1, buffersize=None):
        """Returns an iterator equivalent to map(fn, iter), as the stdlib's.
        chunksize > 1 sends that many calls as one cluster task; buffersize
        (as Python 3.14) keeps at most that many tasks submitted and not yet
        yielded, reading the input lazily."""
        return _mapbuf.chunked_map(self, fn, iterables, timeout, chunksize, buffersize)

    # --- completion (dask callback thread -> loop -> completer thread) -----

    def _on_dask_done(self, dfut):
        # dask's callback thread: only an append; the drain batches.
        with self._lock:
            self._ready.append(dfut)
            if self._drain_scheduled:
                return
            self._drain_scheduled = True
        self._loop.add_callback(self._drain)

    async def _drain(self):
        # The client's loop thread. Everything done since the last drain is
        # gathered at once: one round trip for the batch, not one per task.
        while True:
            with self._lock:
                batch, self._ready = self._ready, []
                if not batch:
                    self._drain_scheduled = False
                    return
            outcomes = []
            finished = [d for d in batch if d.status == "finished"]
            if finished:
                try:
                    values = await self._client.gather(finished, asynchronous=True)
                    outcomes.extend((d.key, _OK, v) for d, v in zip(finished, values))
                except BaseException:
                    # One of them was lost meanwhile: one at a time.
                    for d in finished:
                        outcomes.append(await self._outcome(d))
            for d in batch:
                if d.status != "finished":
                    outcomes.append(await self._outcome(d))
            try:
                self._completer.submit(self._settle, outcomes)
            except RuntimeError:
                # Shut down (shutdown(wait=True) returned): every future is
                # settled; only forget the tasks, so dask releases them.
                with self._lock:
                    for key, _, _ in outcomes:
                        self._tasks.pop(key, None)

    async def _outcome(self, d):
        try:
            v = await self._client.gather([d], asynchronous=True)
            return (d.key, _OK, v[0])
        except distributed.client.FutureCancelledError as e:
            if getattr(e, "reason", None) == "scheduler-connection-lost":
                return (d.key, _LOST, "the client lost its connection to the scheduler")
            return (d.key, _CANCELLED, None)
        except BaseException as e:   # the task's own exception (or KilledWorker)
            if d.status == "cancelled":
                return (d.key, _CANCELLED, None)
            return (d.key, _EXC, e)

    def _settle(self, outcomes):
        # The completer thread: the only place where our futures are settled.
        now = time.monotonic()
        for key, kind, value in outcomes:
            if kind == _LOST:
                self._break(value)
                continue
            with self._lock:
                task = self._tasks.pop(key, None)
            if task is None:   # already failed (broken executor)
                continue
            if self._slots is not None:
                self._slots.release()
            if task.settled:   # a task_timeout already failed it
                continue
            task.settled = True
            gf = task.gf
            if kind == _CANCELLED:
                gf.cancel()   # cancelled on the cluster by someone else: ours too
            if not gf.set_running_or_notify_cancel():
                with self._lock:
                    self._cancelled += 1
                continue
            if kind == _OK:
                gf.set_result(value)
            else:
                gf.set_exception(value)
            with self._lock:
                if kind == _OK:
                    self._completed += 1
                else:
                    self._failed += 1
                self._hist.add(now - task.t0)
        if self._shutdown and self._owns_client:
            with self._lock:
                idle = not self._tasks
            if idle:
                self._close_client()

    # --- cancellation, timeouts, breakage ---------------------------------

    def _cancel_on_cluster(self, key):
        with self._lock:
            task = self._tasks.get(key)
        if task is not None and task.dfut.status == "pending":
            # Non-blocking: the client's loop sends the cancel.
            self._loop.add_callback(self._cancel_async, task.dfut)

    async def _cancel_async(self, dfut):
        try:
            await self._client.cancel([dfut], asynchronous=True)
        except Exception:
            pass

    def _arm_timer(self, key):
        # The loop thread: asyncio's timer heap holds every task's deadline.
        self._loop.asyncio_loop.call_later(self._task_timeout, self._on_timeout, key)

    def _on_timeout(self, key):
        with self._lock:
            task = self._tasks.get(key)
        if task is None or task.dfut.status != "pending":
            return   # done (or being drained) meanwhile
        self._completer.submit(self._fail_timed_out, key)
        self._loop.add_callback(self._cancel_async, task.dfut)

    def _fail_timed_out(self, key):
        with self._lock:
            task = self._tasks.get(key)
        if task is None or task.settled:
            return
        task.settled = True
        if task.gf.set_running_or_notify_cancel():
            task.gf.set_exception(_base.TimeoutError(
                "task %s ran longer than task_timeout=%s s: cancelled on the cluster"
                % (key, self._task_timeout)))
            with self._lock:
                self._failed += 1
        else:
            with self._lock:
                self._cancelled += 1
        # The slot comes back when dask confirms the cancel (_settle).

    def _broken_message(self, why):
        return "DaskExecutor is broken: %s (scheduler %s)" % (why, self._address)

    def _break(self, why):
        # The completer thread. Every unsettled future fails with BrokenExecutor.
        with self._lock:
            if not self._broken:
                self._broken = self._broken_message(why)
            tasks, self._tasks = list(self._tasks.values()), {}
        exc_msg = self._broken
        for task in tasks:
            if self._slots is not None:
                self._slots.release()
            if task.settled:
                continue
            task.settled = True
            if task.gf.set_running_or_notify_cancel():
                task.gf.set_exception(_base.BrokenExecutor(exc_msg))
                with self._lock:
                    self._failed += 1

    # --- shutdown, statistics ---------------------------------------------

    def _processing_keys(self):
        """The keys the scheduler has handed to workers (one round trip)."""
        try:
            proc = self._client.processing()
        except Exception:
            return set()
        return {k for keys in proc.values() for k in keys}

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._lock:
            self._shutdown = True
            tasks = list(self._tasks.items())
        if cancel_futures and tasks:
            # As the stdlib: the tasks not yet started are cancelled; those
            # the scheduler has handed to a worker run to their end.
            started = self._processing_keys() if not self._broken else set()
            for key, task in tasks:
                if key not in started:
                    task.gf.cancel()
        if wait:
            _base.wait([t.gf for _, t in tasks])
            self._completer.shutdown(wait=True)
            if self._owns_client:
                self._close_client()
        elif self._owns_client and not tasks:
            self._close_client()
    shutdown.__doc__ = _base.Executor.shutdown.__doc__

    def _close_client(self):
        with self._lock:
            if self._closed_client:
                return
            self._closed_client = True
        try:
            self._client.close()
        except Exception:
            pass

    def stats(self):
        """A PoolStats (kind 'dask') of this executor. running: the tasks
        the scheduler has handed to a worker (asked of it: one round trip);
        queued: the other pending ones. wait is not measured (count 0: dask
        does not tell the client when a task starts); run is from submit
        until the result is at the client. workers_alive is the cluster's;
        workers_started/replaced/died are not counted (0). Not included in
        gofutures.stats(), which totals the Go engine's pools."""
        started = self._processing_keys() if not self._broken else set()
        try:
            workers = len(self._client.nthreads()) if not self._broken else 0
        except Exception:
            workers = 0
        with self._lock:
            pending = [k for k, t in self._tasks.items() if not t.settled]
            running = sum(1 for k in pending if k in started)
            return PoolStats(
                kind="dask", name=self._prefix.rstrip("-"), submitted=self._submitted,
                queued=len(pending) - running, running=running, completed=self._completed,
                failed=self._failed, cancelled=self._cancelled, workers_alive=workers,
                workers_started=0, workers_replaced=0, workers_died=0,
                queue_high_water=self._high_water, wait=Latency(0, 0.0, 0.0, 0.0, 0.0, 0.0),
                run=self._hist.latency())

    @property
    def client(self):
        """The distributed.Client this executor submits through."""
        return self._client
