# Typical user code, type-checked by mypy against the installed gofutures
# (tests/test_packaging.py::test_mypy_user_code). Not collected by pytest.
from __future__ import annotations

import concurrent.futures as cf
from typing import List

import gofutures
from gofutures import (ALL_COMPLETED, FIRST_COMPLETED, PoolStats, ProcessPoolExecutor,
                       ThreadPoolExecutor, as_completed, wait)


def square(x: int) -> int:
    return x * x


def thread_pool() -> List[int]:
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="w", max_pending=100,
                            pending_timeout=5.0) as ex:
        fut: cf.Future[int] = ex.submit(square, 3)
        urgent: cf.Future[int] = ex.submit_with_priority(-1, square, 4)
        futs = [ex.submit(square, i) for i in range(10)]
        done, not_done = wait(futs, timeout=10, return_when=ALL_COMPLETED)
        total: int = sum(f.result() for f in done)
        for f in as_completed(futs, timeout=10):
            total += f.result()
        wait(futs, return_when=FIRST_COMPLETED)
        out: List[int] = list(ex.map(square, range(5), timeout=3, buffersize=2))
        st: PoolStats = ex.stats()
        n: int = st.submitted + st.completed
        p99: float = st.run.p99
        return out + [fut.result(), urgent.result(), total, n, int(p99)]


def process_pool() -> List[str]:
    with ProcessPoolExecutor(max_workers=2, max_tasks_per_child=10, task_timeout=30.0,
                             max_pending=8, pending_timeout=None, max_worker_memory=2 << 30) as ex:
        f = ex.submit_with_timeout(1.5, str, 42)
        late: cf.Future[str] = ex.submit_with_priority(5, str, 7)
        s: str = f.result()
        lines = list(ex.map(str, [1, 2, 3], chunksize=2, buffersize=4))
        ex.stats().workers_alive
    ex.terminate_workers()
    ex.kill_workers()
    return [s, late.result()] + lines


def stdlib_interop(ex: cf.Executor) -> cf.Future[int]:
    return ex.submit(square, 2)


def generic(executor: ThreadPoolExecutor) -> None:
    # A gofutures executor is a concurrent.futures one.
    stdlib_interop(executor)
    fut: gofutures.Future[int] = gofutures.Future()
    fut.set_result(1)
    total: PoolStats = gofutures.stats()
    print(gofutures.__version__, total.kind, gofutures.installed())
    gofutures.install()
    gofutures.uninstall()
    try:
        fut.result(timeout=0.1)
    except (gofutures.TimeoutError, gofutures.CancelledError, gofutures.BrokenProcessPool):
        pass
