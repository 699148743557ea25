"""gofutures.RayExecutor against a real local Ray instance (conftest.py)."""
import concurrent.futures as cf
import os
import signal

import pytest

import gofutures

from cluster_fixtures import ray_instance  # noqa: F401 (fixtures)
import cluster_tasks as T

ray = pytest.importorskip("ray")

from cluster_tasks import WORK, drain, outcome  # noqa: E402


@ray.remote
class Gate:
    """A flag the tasks wait on, set from the test (an actor: no polling of files)."""
    def __init__(self):
        self.open = False
        self.pids = []

    def started(self, pid):
        self.pids.append(pid)

    def get_pids(self):
        return list(self.pids)

    def set(self):
        self.open = True

    def is_open(self):
        return self.open


def gated(gate, limit=60.0):
    import time
    gate.started.remote(os.getpid())
    end = time.monotonic() + limit
    while not ray.get(gate.is_open.remote()) and time.monotonic() < end:
        time.sleep(0.02)
    return os.getpid()


def test_differential_against_process_pool(ray_instance):
    with cf.ProcessPoolExecutor(2) as ppe, gofutures.RayExecutor() as rex:
        ref = [outcome(ppe.submit(fn, *a)) for fn, a in WORK]
        got = [outcome(rex.submit(fn, *a)) for fn, a in WORK]
        assert got == ref
        assert isinstance(rex.submit(T.square, 2), gofutures.Future)
        assert rex.submit(T.add, 1, y=2, key="K").result(timeout=60) == (3, "K", None)
        for kw in ({}, {"chunksize": 3}, {"buffersize": 4}):
            cs = kw.get("chunksize", 1)
            xs = list(range(20))
            assert list(rex.map(T.square, xs, **kw)) == list(ppe.map(T.square, xs, chunksize=cs))
            assert drain(rex.map(T.maybe_fail, xs, **kw)) == drain(ppe.map(T.maybe_fail, xs, chunksize=cs))


def test_cancel_backpressure_timeout_and_killed_worker(ray_instance):
    gate = Gate.remote()
    with gofutures.RayExecutor(max_pending=3, pending_timeout=0.2, max_retries=0) as rex:
        fs = [rex.submit(gated, gate) for _ in range(3)]
        with pytest.raises(TimeoutError, match="no room for a new task: 3 pending after 0.2 s"):
            rex.submit(T.square, 1)
        victim = fs[2]           # 2 CPUs: the third waits
        assert victim.cancel() and victim.cancelled()
        # A worker process killed from outside mid-task: that future fails only.
        pids = []
        for _ in range(3000):
            pids = ray.get(gate.get_pids.remote())
            if len(pids) >= 1:
                break
        os.kill(pids[0], signal.SIGKILL)
        gate.set.remote()
        outs = [outcome(f) for f in fs[:2]]
        assert sum(o[0] == "exc" and issubclass(o[1], ray.exceptions.RayError) for o in outs) == 1
        assert sum(o[0] == "ok" for o in outs) == 1
        assert rex.submit(T.square, 5).result(timeout=60) == 25
        s = rex.stats()
        assert s.completed + s.failed + s.cancelled + s.running + s.queued == s.submitted
    with gofutures.RayExecutor(task_timeout=0.5) as rex:
        f = rex.submit(T.sleep, 30)
        with pytest.raises(TimeoutError, match="task_timeout"):
            f.result(timeout=60)
    with gofutures.RayExecutor() as rex:   # Ray carries on
        assert rex.submit(T.square, 3).result(timeout=60) == 9


def test_mixed_wait(ray_instance):
    with gofutures.RayExecutor() as rex, gofutures.ThreadPoolExecutor(2) as tpe:
        fs = [rex.submit(T.square, i) for i in range(5)] + [tpe.submit(T.square, i) for i in range(5)]
        assert len(gofutures.wait(fs, timeout=60).done) == 10
        assert sorted(f.result() for f in gofutures.as_completed(fs, timeout=60)) == sorted(2 * [i * i for i in range(5)])
