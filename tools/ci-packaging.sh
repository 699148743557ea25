#!/usr/bin/env bash
# Everything CI runs for packaging (issue 16), on one CPython:
#   1. tools/build-wheels.sh PYTHON: the sdist, then a manylinux_2_17 wheel
#      for PYTHON built from it with zig's cc (auditwheel-checked: libc and
#      libpthread only, no libpython);
#   2. a venv with that wheel and the test extra (no Go build here);
#   3. tests/test_packaging.py with GOFUTURES_PACKAGING=1: one version; the
#      sdist from `git archive HEAD` is complete and installs into a fresh venv
#      (needs Go) and passes a smoke test and the conformance runner; the wheel
#      in a fresh venv with no go, no compiler on PATH passes the documented
#      test subset and the conformance runner; mypy over sample user code.
# Usage: tools/ci-packaging.sh PYTHON   (e.g. a pyenv CPython 3.13)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:?usage: tools/ci-packaging.sh PYTHON}"
export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "ci-packaging: Go is needed on PATH (the sdist test builds from source)" >&2; exit 1; }
t0=$SECONDS
tag="$("$PY" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')"

echo "== build-wheels ($("$PY" --version))"
tools/build-wheels.sh "$PY"
whl="$(ls build/wheelhouse/gofutures-*-"$tag"-"$tag"-*manylinux*.whl | sort -V | tail -n 1)"
echo "== wheel: $(basename "$whl") ($((SECONDS - t0)) s)"

venv="build/ci-packaging-$tag"
"$PY" -m venv --clear "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "$whl[test]"

echo "== tests/test_packaging.py"
GOFUTURES_PACKAGING=1 GOFUTURES_WHEEL="$PWD/$whl" \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider -rs tests/test_packaging.py
echo "== ci-packaging done in $((SECONDS - t0)) s"
