"""Thread-pool workloads. The task is a builtin (abs) where the point is the
engine's own per-task cost; every pool is started and warmed before the clock."""
import hashlib
import time

from .runner import Workload, timed

_SUM = lambda n: n * (n - 1) // 2  # noqa: E731  sum(abs(i) for i in range(n))
_BUF = bytes(range(256)) * 4096     # 1 MiB
_DIGEST = hashlib.sha256(_BUF).digest()


def _pool(workers):
    def open_(impl, n):
        ex = impl.ThreadPoolExecutor(workers)
        # Warm: start every worker thread and run a few tasks.
        for f in [ex.submit(time.sleep, 0.002) for _ in range(workers)]:
            f.result()
        list(ex.map(abs, range(100)))
        return ex
    return open_


def _close(ex):
    ex.shutdown(wait=True)


def _submit_result(ex, n):
    def go():
        fs = [ex.submit(abs, i) for i in range(n)]
        return sum(f.result() for f in fs)
    return timed(go)


def _roundtrip(ex, n):
    def go():
        total = 0
        for i in range(n):
            total += ex.submit(abs, i).result()
        return total
    return timed(go)


def _submit_priority(ex, n):
    """gofutures+priority: submit_with_priority with priorities spread over
    64 values, so the Go heap reorders the queue; gofutures: plain submit.
    Both run the same loop over the same precomputed priorities."""
    prios = [(i * 7919) % 64 - 32 for i in range(n)]
    with_prio = getattr(ex, "bench_priority", False)

    def go():
        if with_prio:
            sp = ex.submit_with_priority
            fs = [sp(p, abs, i) for i, p in zip(range(n), prios)]
        else:
            s = ex.submit
            fs = [s(abs, i) for i, p in zip(range(n), prios)]
        return sum(f.result() for f in fs)
    return timed(go)


def _map(ex, n):
    return timed(lambda: sum(ex.map(abs, range(n))))


def _map_buffered(ex, n):
    """gofutures: map(..., buffersize=64); the stdlib (no buffersize before
    3.14): its plain map, which is what a user has without gofutures."""
    kw = {} if ex.__module__.startswith("concurrent.") else {"buffersize": 64}
    return timed(lambda: sum(ex.map(abs, range(n), **kw)))


def _sleepers(ex, n):
    def go():
        fs = [ex.submit(time.sleep, 0.001) for _ in range(n)]
        return sum(1 for f in fs if f.result() is None)
    return timed(go)


def _hashes(ex, n):
    def go():
        fs = [ex.submit(_sha, _BUF) for _ in range(n)]
        return sum(f.result() == _DIGEST for f in fs)
    return timed(go)


def _sha(buf):
    return hashlib.sha256(buf).digest()


def _hash_serial(n):
    return timed(lambda: sum(_sha(_BUF) == _DIGEST for _ in range(n)))


def _create(impl, n):
    def go():
        ok = 0
        for i in range(n):
            ex = impl.ThreadPoolExecutor(2)
            ok += ex.submit(abs, -1).result()
            ex.shutdown(wait=True)
        return ok
    return timed(go)


def _two_wakes(floors, n):
    return 2 * floors["thread_wake"], "2 thread wake-ups"


def workloads():
    return [
        Workload("thread_submit_1", "thread submit+result, 1 worker", "thread",
                 50_000, 5_000, _submit_result, _SUM, _pool(1), _close,
                 target=("ratio<=", 0.25),
                 note="submit n tasks (abs), then collect every result"),
        Workload("thread_submit_4", "thread submit+result, 4 workers", "thread",
                 50_000, 5_000, _submit_result, _SUM, _pool(4), _close,
                 target=("ratio<=", 0.25)),
        Workload("thread_roundtrip", "thread submit→result one at a time", "thread",
                 10_000, 1_000, _roundtrip, _SUM, _pool(1), _close,
                 target=("ratio<=", 1.0), floor=_two_wakes,
                 note="latency: each result is awaited before the next submit; the floor "
                      "(2 thread wake-ups) is most of the stdlib's figure, so the per-task "
                      "target (0.25) cannot apply: the target is not to be slower"),
        Workload("thread_map", "thread map, 4 workers", "thread",
                 50_000, 5_000, _map, _SUM, _pool(4), _close,
                 target=("ratio<=", 0.25)),
        Workload("thread_map_buffered", "thread map(buffersize=64), 4 workers", "thread",
                 50_000, 5_000, _map_buffered, _SUM, _pool(4), _close,
                 note="gofutures' map with buffersize=64 against the stdlib's plain map "
                      "(the stdlib has no buffersize before 3.14)"),
        Workload("thread_sleep", "I/O-bound: sleep(1 ms) tasks, 32 workers", "thread",
                 3_000, 600, _sleepers, lambda n: n, _pool(32), _close,
                 floor=lambda fl, n: (0.001 / 32, "1 ms / 32 workers"),
                 note="wall time per task; the floor is 1 ms / 32"),
        Workload("thread_sha256", "GIL-releasing: sha256 of 1 MiB, 2 workers", "thread",
                 96, 16, _hashes, lambda n: n, _pool(2), _close,
                 target=("speedup>=stdlib", 1.0), serial=_hash_serial,
                 note="speedup = serial time / pool time (2 cores)"),
        # The cost of backpressure's bookkeeping: the same pool with and
        # without max_pending (a bound never reached).
        Workload("thread_max_pending", "thread submit+result with max_pending, 1 worker",
                 "thread", 50_000, 5_000, _submit_result, _SUM, _pool(1), _close,
                 impls=("gofutures", "gofutures+max_pending"),
                 pair=("gofutures+max_pending", "gofutures")),
        # The cost of context="copy": a context copy per submit, an enter
        # and exit around each call.
        Workload("thread_context_copy", 'thread submit+result with context="copy", 1 worker',
                 "thread", 50_000, 5_000, _submit_result, _SUM, _pool(1), _close,
                 impls=("gofutures", "gofutures+context"),
                 pair=("gofutures+context", "gofutures")),
        # The cost of priorities: submit_with_priority (the heap) against
        # submit (the FIFO) on the same pool.
        Workload("thread_priority", "thread submit_with_priority+result, 1 worker",
                 "thread", 50_000, 5_000, _submit_priority, _SUM, _pool(1), _close,
                 impls=("gofutures", "gofutures+priority"),
                 pair=("gofutures+priority", "gofutures"),
                 note="submit n tasks with priorities spread over 64 values, then collect "
                      "every result; without: plain submit in the same loop"),
        Workload("thread_create", "thread pool create+1 task+shutdown", "thread",
                 300, 30, _create, lambda n: n, None, None, per="pool"),
    ]
