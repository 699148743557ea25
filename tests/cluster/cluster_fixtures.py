"""The cluster tests' fixtures (imported by each test module: a conftest.py
here would be imported as `conftest` and shadow tests/conftest.py for the
rest of the suite). One real dask.distributed cluster for the module: a scheduler in this
process and 2 worker processes (nannies), on loopback only; and a local Ray
instance of 2 CPUs. Each test module skips when its engine is not installed
(pip install gofutures[dask] / gofutures[ray])."""
import logging
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
# The workers (spawned by their nannies) and ProcessPoolExecutor children
# import cluster_tasks by name.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")]))


@pytest.fixture(scope="module")
def cluster():
    dask = pytest.importorskip("dask")
    from distributed import Client, LocalCluster
    # allowed-failures 0: one worker killed mid-task gives KilledWorker at
    # once (dask's default retries 3 times). worker-saturation 1.0: the
    # scheduler hands each 1-thread worker one task at a time, so what it
    # calls processing is what runs.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                          "distributed.scheduler.worker-saturation": 1.0}):
        # Its HTTP server on a free loopback port: with dashboard_address=None it
        # still takes 8787, which a second cluster (or anything else) then lacks.
        cl = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL)
        client = Client(cl, set_as_default=False)
        # Each worker's own client (what distributed.Event/Queue in a task
        # use) is made now, before any test: made while the scheduler
        # streams a cancellation to the same worker, its handshake can read
        # two messages and fail an assertion inside distributed
        # (Client._ensure_connected: `assert len(msg) == 1`), seen once.
        assert all(client.submit(_worker_client, workers=[w], pure=False).result(timeout=60)
                   for w in client.scheduler_info()["workers"])
        try:
            yield cl, client
        finally:
            client.close()
            cl.close()


def _worker_client():
    from distributed import get_client
    get_client()
    return True


@pytest.fixture
def client(cluster):
    return cluster[1]


# Ray on loopback only. Ray maps a node address of 127.0.0.1 to the host's
# interface address (services.resolve_ip_for_localhost, through
# get_node_ip_address) unless Ray's single-machine mode is on, which is
# RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (the default on macOS/Windows): then
# the node address is 127.0.0.1 and the GCS, raylet, object manager and
# worker servers bind it. Read when ray is imported, so set here, before
# the test modules import ray; the Ray processes inherit it.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
RAY_INIT = dict(num_cpus=2, include_dashboard=False, log_to_driver=False,
                _node_ip_address="127.0.0.1")


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray")
    # A local instance on loopback: GCS, raylet and 2 CPUs of workers on
    # this machine, no dashboard.
    ctx = ray.init(**RAY_INIT)
    try:
        yield ctx
    finally:
        ray.shutdown()
