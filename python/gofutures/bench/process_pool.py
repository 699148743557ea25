"""Process-pool workloads: stdlib, gofutures (when it has a process pool)
and loky side by side. Tasks live in tasks.py (picklable, stdlib-only)."""
import functools
import multiprocessing

from . import tasks
from .runner import Workload, timed

WORKERS = 2
_BURN = 300_000


def _squares(n):
    return (n - 1) * n * (2 * n - 1) // 6  # sum(i*i for i in range(n))


@functools.lru_cache(maxsize=None)
def _burned():
    return tasks.burn(_BURN)


def _open(impl, n):
    ex = impl.ProcessPoolExecutor(WORKERS)
    # Warm: every worker started and has imported the task module.
    for f in [ex.submit(tasks.square, i) for i in range(4 * WORKERS)]:
        f.result()
    return ex


def _open_spawn(impl, n):
    # max_worker_memory refuses fork (the default before 3.14): both
    # columns of its cost use spawn.
    ex = impl.ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"))
    for f in [ex.submit(tasks.square, i) for i in range(4 * WORKERS)]:
        f.result()
    return ex


def _close(ex):
    ex.shutdown(wait=True)


def _submit_result(ex, n):
    def go():
        fs = [ex.submit(tasks.square, i) for i in range(n)]
        return sum(f.result() for f in fs)
    return timed(go)


def _roundtrip(ex, n):
    def go():
        return sum(ex.submit(tasks.square, i).result() for i in range(n))
    return timed(go)


def _map(chunksize):
    def sample(ex, n):
        return timed(lambda: sum(ex.map(tasks.square, range(n), chunksize=chunksize)))
    return sample


def _burn(ex, n):
    def go():
        fs = [ex.submit(tasks.burn, _BURN) for _ in range(n)]
        return sum(f.result() for f in fs)
    return timed(go)


def _burn_serial(n):
    return timed(lambda: sum(tasks.burn(_BURN) for _ in range(n)))


def _create(impl, n):
    def go():
        total = 0
        for _ in range(n):
            ex = impl.ProcessPoolExecutor(WORKERS)
            total += ex.submit(tasks.square, 3).result()
            ex.shutdown(wait=True)
        return total
    return timed(go)


def _ipc(floors, n):
    return floors["pipe_rtt"] + floors["pickle_rtt"], "pipe round trip + pickle round trip"


def _ipc_chunk(size):
    def floor(floors, n):
        return ((floors["pipe_rtt"] + floors["pickle_rtt"]) / size,
                "(pipe + pickle round trip) / %d" % size)
    return floor


def start_method():
    return multiprocessing.get_start_method(allow_none=False)


def workloads():
    three = ("stdlib", "gofutures", "loky")
    # The cost of the per-task timeout's bookkeeping: the same pool with and
    # without a pool-wide task_timeout (one that never fires).
    timeout_cost = dict(impls=("gofutures", "gofutures+task_timeout"),
                        pair=("gofutures+task_timeout", "gofutures"))
    # max_worker_memory's check after each task (a bound never reached),
    # against the same spawn pool without it.
    memory_cost = dict(impls=("gofutures", "gofutures+max_worker_memory"),
                       pair=("gofutures+max_worker_memory", "gofutures"))
    return [
        Workload("process_submit", "process submit+result, 2 workers", "process",
                 3_000, 300, _submit_result, _squares, _open, _close, impls=three,
                 target=("ratio<=", 0.5), floor=_ipc,
                 note="submit n tasks, then collect every result"),
        Workload("process_roundtrip", "process submit→result one at a time", "process",
                 1_000, 100, _roundtrip, _squares, _open, _close, impls=three,
                 target=("ratio<=", 0.5), floor=_ipc,
                 note="latency: each result is awaited before the next submit"),
        Workload("process_map_1", "process map chunksize=1, 2 workers", "process",
                 3_000, 300, _map(1), _squares, _open, _close, impls=three,
                 target=("ratio<=", 0.5), floor=_ipc),
        Workload("process_map_256", "process map chunksize=256, 2 workers", "process",
                 100_000, 10_000, _map(256), _squares, _open, _close, impls=three,
                 target=("ratio<=", 1.0), floor=_ipc_chunk(256)),
        Workload("process_timeout_submit", "process submit+result with task_timeout",
                 "process", 3_000, 300, _submit_result, _squares, _open, _close,
                 **timeout_cost),
        Workload("process_timeout_roundtrip", "process submit→result with task_timeout",
                 "process", 1_000, 100, _roundtrip, _squares, _open, _close,
                 **timeout_cost),
        Workload("process_memory_roundtrip", "process submit→result with max_worker_memory",
                 "process", 1_000, 100, _roundtrip, _squares, _open_spawn, _close, **memory_cost),
        Workload("process_cpu", "CPU-bound (pure Python) on 2 processes", "process",
                 8, 4, _burn, lambda n: n * _burned(), _open, _close, impls=three,
                 target=("speedup>=stdlib", 1.0), serial=_burn_serial,
                 note="speedup = serial time / pool time"),
        Workload("process_create", "process pool create+1 task+shutdown", "process",
                 3, 1, _create, lambda n: 9 * n, None, None, impls=three, per="pool"),
    ]
