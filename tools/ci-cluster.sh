#!/usr/bin/env bash
# The cluster tier (issue 17): tests/cluster in one venv with gofutures and
# both pinned cluster extras, against the real engines on loopback:
#   dask: a dask.distributed LocalCluster (scheduler + 2 worker processes);
#   ray:  a local Ray instance (GCS, raylet, 2 CPUs of workers);
#         cluster_fixtures sets RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, Ray's
#         single-machine mode, in which every Ray listener is on 127.0.0.1.
# One venv, one build of gofutures for both engines (they install side by
# side). Usage: tools/ci-cluster.sh [python]   (default: python3); VENV
# overrides the venv's path (default build/venv-cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
py="${1:-python3}"
venv="${VENV:-build/venv-cluster}"
start=$SECONDS
"$py" -m venv "$venv"
"$venv/bin/pip" install -q ".[test,dask,ray]"
echo "== cluster tests on $("$venv/bin/python" --version), $("$venv/bin/python" -c 'import distributed, ray; print("distributed", distributed.__version__, "ray", ray.__version__)') (install: $((SECONDS - start)) s)"
# From the root (not python/): the installed package is the one tested.
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/cluster
echo "== cluster: $((SECONDS - start)) s"
