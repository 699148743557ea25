#!/usr/bin/env bash
# Builds manylinux wheels of gofutures, one per CPython, without the
# manylinux container images (their registry is not reachable here):
#
#   1. the sdist (python -m build --sdist: the Go module plus vendor/), once;
#   2. for each CPython, `pip wheel` of that sdist with zig's `cc` as CC for
#      both cgo (go build -buildmode=c-archive) and the C shim, targeting
#      <arch>-linux-gnu.2.17: zig ships glibc stubs of every version, so the
#      extension references no glibc symbol newer than 2.17;
#   3. auditwheel repair --plat manylinux_2_17_<arch> (manylinux2014), after
#      checking that the .so needs only libc/libpthread and has no libpython.
#
# Usage: tools/build-wheels.sh [PYTHON...]
#   default: every pyenv CPython 3.9-3.13 found, plus the commands listed in
#   $GOFUTURES_EXTRA_PYTHONS (the hook for 3.14/3.15 from the Debian chroot:
#   each entry a python executable or wrapper that can run `-m pip wheel`).
# Output: build/wheelhouse/*.whl (raw wheels in build/wheels-raw/).
# Env: GOFUTURES_GLIBC (default 2.17), GOFUTURES_TOOLS_VENV (default
#   build/wheel-tools), GO (go binary; default `go` on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
GLIBC="${GOFUTURES_GLIBC:-2.17}"
ARCH="$(uname -m)"
PLAT="manylinux_${GLIBC/./_}_${ARCH}"
OUT="$ROOT/build/wheelhouse"
RAW="$ROOT/build/wheels-raw"
TOOLS="${GOFUTURES_TOOLS_VENV:-$ROOT/build/wheel-tools}"

command -v "${GO:-go}" >/dev/null || { echo "build-wheels: Go is needed on PATH (or GO=...)" >&2; exit 1; }

pythons=("$@")
if [ ${#pythons[@]} -eq 0 ]; then
  PYENV_ROOT="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
  for v in 3.9 3.10 3.11 3.12 3.13; do
    p="$(ls -d "$PYENV_ROOT"/versions/"$v".*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$p" ] && pythons+=("$p") || echo "build-wheels: no CPython $v under $PYENV_ROOT, skipped" >&2
  done
  # Hook: CPythons that live elsewhere (3.14/3.15 in the Debian chroot).
  for p in ${GOFUTURES_EXTRA_PYTHONS:-}; do pythons+=("$p"); done
fi

# Tools, pinned (tools/wheel-requirements.txt), in their own venv.
if [ ! -x "$TOOLS/bin/auditwheel" ] || ! cmp -s tools/wheel-requirements.txt "$TOOLS/requirements.txt"; then
  python3 -m venv --clear "$TOOLS"
  "$TOOLS/bin/pip" install -q --disable-pip-version-check -r tools/wheel-requirements.txt
  cp tools/wheel-requirements.txt "$TOOLS/requirements.txt"
fi
ZIG="$("$TOOLS/bin/python" -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')"

# One CC for everything: cgo runs $CC for the Go side, setuptools runs $CC and
# $LDSHARED for the shim and the final link.
ZCC="$TOOLS/zcc-$ARCH-glibc$GLIBC"
cat > "$ZCC" <<SH
#!/bin/sh
exec "$ZIG" cc -target $ARCH-linux-gnu.$GLIBC "\$@"
SH
chmod +x "$ZCC"

rm -rf "$RAW" && mkdir -p "$RAW" "$OUT"
sdist_dir="$(mktemp -d)"
trap 'rm -rf "$sdist_dir"' EXIT
"$TOOLS/bin/python" -m build --sdist -o "$sdist_dir" . >"$sdist_dir/build.log" 2>&1 \
  || { tail -n 40 "$sdist_dir/build.log" >&2; exit 1; }
SDIST="$(ls "$sdist_dir"/gofutures-*.tar.gz)"
echo "build-wheels: $(basename "$SDIST"), CC=zig cc -target $ARCH-linux-gnu.$GLIBC, plat $PLAT"

for py in "${pythons[@]}"; do
  t0=$SECONDS
  # No -march / -mtune from the machine: CFLAGS stays what the shim sets.
  env CC="$ZCC" CXX="$ZCC" LDSHARED="$ZCC -shared" CGO_ENABLED=1 \
    "$py" -m pip wheel -q --disable-pip-version-check --no-cache-dir --no-deps -w "$RAW" "$SDIST"
  echo "build-wheels: $("$py" --version) built in $((SECONDS - t0)) s"
done

fail=0
for whl in "$RAW"/*.whl; do
  # The .so must need no libpython (symbols resolve in the running
  # interpreter) and nothing beyond glibc's libc and libpthread.
  needed="$("$TOOLS/bin/python" - "$whl" <<'PY'
import sys, zipfile, io
from elftools.elf.elffile import ELFFile
with zipfile.ZipFile(sys.argv[1]) as z:
    for n in z.namelist():
        if n.endswith(".so"):
            elf = ELFFile(io.BytesIO(z.read(n)))
            dyn = elf.get_section_by_name(".dynamic")
            print(n, *sorted(t.needed for t in dyn.iter_tags() if t.entry.d_tag == "DT_NEEDED"))
PY
)"
  echo "build-wheels: $(basename "$whl"): NEEDED $needed"
  extra="$(echo "$needed" | tr ' ' '\n' | sed 1d | grep -v -x -E 'libc\.so\.6|libpthread\.so\.0' || true)"
  if [ -n "$extra" ]; then echo "build-wheels: unexpected shared libraries: $extra" >&2; fail=1; continue; fi
  "$TOOLS/bin/auditwheel" show "$whl" | tr '\n' ' ' | grep -q "consistent with the following platform tag: \"$PLAT\"" \
    || { "$TOOLS/bin/auditwheel" show "$whl" >&2; echo "build-wheels: $whl is not $PLAT" >&2; fail=1; continue; }
  PATH="$TOOLS/bin:$PATH" "$TOOLS/bin/auditwheel" repair --plat "$PLAT" -w "$OUT" "$whl" >"$RAW/repair.log" 2>&1 \
    || { cat "$RAW/repair.log" >&2; fail=1; continue; }
done
[ $fail -eq 0 ] || exit 1
ls -la "$OUT"
