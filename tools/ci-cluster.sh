#!/usr/bin/env bash
# The cluster tier (issue 17), two legs, each in a venv of its own with
# gofutures and one pinned extra:
#   dask: tests/cluster against a real dask.distributed LocalCluster
#         (scheduler + 2 worker processes, loopback);
#   ray:  tests/cluster/test_ray_executor.py against a real local Ray
#         instance (GCS, raylet, 2 CPUs of workers) on loopback
#         (cluster_fixtures sets RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0).
# Usage: tools/ci-cluster.sh [python]   (default: python3). LEGS picks the
# legs (default "dask ray"); VENV / VENV_RAY override the venvs' paths
# (default build/venv-cluster, build/venv-cluster-ray).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
py="${1:-python3}"
legs="${LEGS:-dask ray}"
for leg in $legs; do
    start=$SECONDS
    case "$leg" in
    dask)
        venv="${VENV:-build/venv-cluster}"
        "$py" -m venv "$venv"
        "$venv/bin/pip" install -q ".[test,dask]"
        echo "== cluster tests (dask) on $("$venv/bin/python" --version), $("$venv/bin/python" -c 'import distributed; print("distributed", distributed.__version__)')"
        # From the root (not python/): the installed package is the one tested.
        # The Ray module skips here (no ray in this venv).
        "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/cluster
        ;;
    ray)
        venv="${VENV_RAY:-build/venv-cluster-ray}"
        "$py" -m venv "$venv"
        "$venv/bin/pip" install -q ".[test,ray]"
        echo "== cluster tests (ray) on $("$venv/bin/python" --version), $("$venv/bin/python" -c 'import ray; print("ray", ray.__version__)')"
        "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/cluster/test_ray_executor.py
        ;;
    *)
        echo "unknown leg $leg" >&2; exit 2 ;;
    esac
    echo "== leg $leg: $((SECONDS - start)) s"
done
