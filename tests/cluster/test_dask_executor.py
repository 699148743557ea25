"""gofutures.DaskExecutor against a real dask.distributed cluster
(conftest.py: scheduler + 2 worker processes on loopback)."""
import concurrent.futures as cf
import logging
import os
import signal
import textwrap
import threading
import time
import uuid

import pytest

import gofutures

from cluster_fixtures import cluster, client  # noqa: F401 (fixtures)
import cluster_checks as C
import cluster_tasks as T

distributed = pytest.importorskip("distributed")


def uid():
    return uuid.uuid4().hex


def scheduler_states(client, prefix):
    """{key: state} of the scheduler's tasks whose key starts with prefix."""
    def read(dask_scheduler, prefix):
        return {k: ts.state for k, ts in dask_scheduler.tasks.items()
                if isinstance(k, str) and k.startswith(prefix)}
    return client.run_on_scheduler(read, prefix=prefix)


def until(pred, what, limit=30.0):
    """Bounded wait for a state on the cluster that no local event reports."""
    end = time.monotonic() + limit
    while not pred():
        assert time.monotonic() < end, "timed out waiting for " + what
        time.sleep(0.02)


def test_import_gofutures_does_not_import_dask():
    C.check_import_does_not_import("dask", "distributed")


def test_differential_against_process_pool(client):
    with gofutures.DaskExecutor(client) as dex:
        C.check_against_process_pool(dex)
        f = dex.submit(T.fail, "value", 1)
        assert isinstance(f, gofutures.Future)
        # keywords of fn's own that Client.submit also has
        assert dex.submit(T.add, 1, y=2, key="K", pure="P").result() == (3, "K", "P")


def test_map_timeout_is_the_stdlib_timeout(client):
    ev = uid()
    with gofutures.DaskExecutor(client) as dex:
        it = dex.map(T.wait_event, [ev], timeout=0.2)
        with pytest.raises(TimeoutError):
            next(it)
        distributed.Event(ev, client=client).set()


def test_worker_killed_mid_task_fails_that_future_only(client):
    q, ev = uid(), uid()
    queue = distributed.Queue(q, client=client)
    with gofutures.DaskExecutor(client) as dex:
        victim = dex.submit(T.report_and_wait, q, ev)
        pid = queue.get(timeout=60)           # the task is running there
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(distributed.KilledWorker):
            victim.result(timeout=60)
        # The executor and the cluster carry on (the nanny restarts the worker).
        assert list(dex.map(T.square, range(6))) == [x * x for x in range(6)]
        assert dex.stats().failed == 1


def test_cancel_pending_future_cancels_the_cluster_task(client):
    ev = uid()
    with gofutures.DaskExecutor(client) as dex:
        blockers = [dex.submit(T.wait_event, ev) for _ in range(2)]
        victim = dex.submit(T.square, 5)
        assert victim.cancel()
        assert victim.cancelled() and victim.done()
        done, _ = cf.wait([victim], timeout=5)   # the stdlib's wait too
        assert victim in done
        with pytest.raises(cf.CancelledError):
            victim.result()
        # Gone from the scheduler: only the 2 blockers are held.
        until(lambda: len(scheduler_states(client, dex._prefix)) == 2, "the cancelled key to go")
        distributed.Event(ev, client=client).set()
        assert [b.result(timeout=60) for b in blockers] == [True, True]
        s = dex.stats()
        assert (s.submitted, s.completed, s.cancelled) == (3, 2, 1)
        assert s.completed + s.failed + s.cancelled + s.running + s.queued == s.submitted


def test_shutdown_cancel_futures(client):
    ev = uid()
    dex = gofutures.DaskExecutor(client)
    blockers = [dex.submit(T.wait_event, ev) for _ in range(2)]
    until(lambda: sum(st == "processing" for st in scheduler_states(client, dex._prefix).values()) == 2,
          "both blockers to start")
    queued = [dex.submit(T.square, i) for i in range(6)]
    dex.shutdown(wait=False, cancel_futures=True)
    assert all(f.cancelled() for f in queued)
    with pytest.raises(RuntimeError):
        dex.submit(T.square, 1)
    distributed.Event(ev, client=client).set()
    assert [b.result(timeout=60) for b in blockers] == [True, True]
    until(lambda: not scheduler_states(client, dex._prefix), "the executor's keys to go")


def test_backpressure_bounds_what_the_scheduler_holds(client):
    ev = uid()
    dex = gofutures.DaskExecutor(client, max_pending=3, pending_timeout=30)
    submitted = []
    started = threading.Event()

    def producer():
        started.set()
        for _ in range(8):
            submitted.append(dex.submit(T.wait_event, ev))
    th = threading.Thread(target=producer)
    th.start()
    started.wait()
    until(lambda: len(submitted) == 3, "3 submits")
    # The 4th submit is blocked: the scheduler holds 3 of ours (once the
    # client's batched sends arrive), no more.
    until(lambda: len(scheduler_states(client, dex._prefix)) == 3, "the scheduler to hold 3")
    assert th.is_alive()
    assert len(submitted) == 3
    distributed.Event(ev, client=client).set()
    th.join(60)
    assert not th.is_alive()
    assert all(f.result(timeout=60) for f in submitted)
    assert dex.stats().queue_high_water == 3
    dex.shutdown()

    ev2 = uid()
    with gofutures.DaskExecutor(client, max_pending=1, pending_timeout=0.2) as dex2:
        f = dex2.submit(T.wait_event, ev2)
        with pytest.raises(TimeoutError, match=r"no room for a new task: 1 pending after 0.2 s"):
            dex2.submit(T.square, 2)
        distributed.Event(ev2, client=client).set()
        assert f.result(timeout=60) is True


def test_task_timeout(client):
    ev = uid()
    with gofutures.DaskExecutor(client, task_timeout=0.5) as dex:
        f = dex.submit(T.wait_event, ev, 30)
        with pytest.raises(TimeoutError, match="task_timeout"):
            f.result(timeout=60)
        assert type(f.exception()) is TimeoutError
        until(lambda: not scheduler_states(client, dex._prefix), "the timed-out key to go")
        distributed.Event(ev, client=client).set()
    with gofutures.DaskExecutor(client) as dex:   # the cluster carries on
        assert dex.submit(T.square, 4).result(timeout=60) == 16


def test_wait_and_as_completed_mix_cluster_and_local_futures(client):
    ev = uid()
    with gofutures.DaskExecutor(client) as dex, gofutures.ThreadPoolExecutor(2) as tpe:
        C.check_mixed_wait(dex, tpe, 10, lambda: dex.submit(T.wait_event, ev),
                           lambda: distributed.Event(ev, client=client).set())


SIGINT_CHILD = textwrap.dedent("""
    import sys, gofutures, cluster_tasks as T
    from cluster_checks import block_until_interrupted
    from distributed import Event
    ex = gofutures.DaskExecutor(sys.argv[1])          # owns its client
    ev = sys.argv[2]
    block_until_interrupted(lambda: ex.submit(T.wait_event, ev, 60))
    Event(ev, client=ex.client).set()
    print("usable", ex.submit(T.square, 7).result(timeout=60), flush=True)
    ex.shutdown()
""")


def test_ctrl_c_interrupts_blocking_calls(cluster):
    cl, client = cluster
    C.check_ctrl_c_interrupts(SIGINT_CHILD, cl.scheduler_address, uid())
    # The cluster is still usable from here too.
    with gofutures.DaskExecutor(client) as dex:
        assert dex.submit(T.square, 3).result(timeout=60) == 9


def test_scheduler_gone_breaks_the_executor():
    # A cluster of its own (in-process scheduler, one thread worker): it is
    # closed under the executor.
    from distributed import Client, LocalCluster
    cl = LocalCluster(n_workers=1, processes=False, threads_per_worker=1, protocol="tcp",
                      host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL)
    client = Client(cl, set_as_default=False)
    try:
        dex = gofutures.DaskExecutor(client)
        assert dex.submit(T.square, 2).result(timeout=60) == 4
        f = dex.submit(T.sleep, 10)
        client.loop.add_callback(cl.scheduler.close)
        with pytest.raises(cf.BrokenExecutor, match="scheduler"):
            f.result(timeout=60)
        with pytest.raises(cf.BrokenExecutor, match="scheduler"):
            dex.submit(T.square, 2)
        dex.shutdown()
    finally:
        client.close()
        cl.close()
