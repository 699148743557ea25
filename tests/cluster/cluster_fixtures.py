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
        cl = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                          dashboard_address=None, silence_logs=logging.CRITICAL)
        client = Client(cl, set_as_default=False)
        try:
            yield cl, client
        finally:
            client.close()
            cl.close()


@pytest.fixture
def client(cluster):
    return cluster[1]


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray")
    # Ray binds its processes to the host's interface address, not loopback
    # (seen here: ray.init(_node_ip_address="127.0.0.1") and
    # RAY_NODE_IP_ADDRESS still give the eth0 address), so these tests are
    # opt-in where only loopback traffic is allowed.
    if os.environ.get("GOFUTURES_RAY_TESTS") != "1":
        pytest.skip("Ray tests are opt-in: GOFUTURES_RAY_TESTS=1 (Ray does not bind to loopback only)")
    # A local instance on loopback: raylet and workers on this machine, no dashboard.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1")
    try:
        yield ray
    finally:
        ray.shutdown()
