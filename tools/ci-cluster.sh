#!/usr/bin/env bash
# The cluster tier (issue 17): installs gofutures with its pinned [dask]
# extra into a venv of its own and runs tests/cluster against a real
# dask.distributed LocalCluster (scheduler + 2 worker processes, loopback).
# Usage: tools/ci-cluster.sh [python]   (default: python3). VENV overrides
# the venv's path (default build/venv-cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
py="${1:-python3}"
venv="${VENV:-build/venv-cluster}"
"$py" -m venv "$venv"
"$venv/bin/pip" install -q ".[test,dask]"
echo "== cluster tests on $("$venv/bin/python" --version), $("$venv/bin/python" -c 'import distributed; print("distributed", distributed.__version__)')"
# From the root (not python/): the installed package is the one tested.
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/cluster
