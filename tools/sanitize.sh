#!/usr/bin/env bash
# Builds gofutures with a sanitizer into its own venv and runs pytest under it.
#
#   tools/sanitize.sh address|race [pytest args...]
#
# address: gcc's AddressSanitizer on the C shim plus Go's -asan on the archive;
#          the interpreter is not instrumented, so libasan is LD_PRELOADed.
# race:    the Go race detector in the archive (go build -race).
# Default pytest args: tests/concurrency tests/robustness. The source is
# copied first, so the sanitized build never shares a build/ dir with a
# normal one. Fails if pytest fails, runs no test (exit 5), or if any
# process (workers and test subprocesses too) wrote a sanitizer report.
# Env: PYTHON (default python3), XDG_CACHE_HOME.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
case "$mode" in
  address) venv_name=venv-asan ;;
  race)    venv_name=venv-race ;;
  *) echo "usage: $0 address|race [pytest args...]" >&2; exit 2 ;;
esac
shift
[ $# -gt 0 ] || set -- tests/concurrency tests/robustness

PYTHON="${PYTHON:-python3}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gofutures"
venv="$cache/$venv_name"
src="$cache/src-$mode"
reports="$cache/reports-$mode"
start=$SECONDS

echo "== sanitize $mode: build ($("$PYTHON" --version), $(go version | cut -d' ' -f3), $(gcc -dumpfullversion))"
rm -rf "$src" "$reports"
mkdir -p "$src" "$reports"
tar --exclude=./build --exclude=./.git --exclude='*/__pycache__' -cf - . | tar -C "$src" -xf -
pip=("$venv/bin/pip" install -q --disable-pip-version-check)
if [ ! -x "$venv/bin/python" ]; then
  "$PYTHON" -m venv "$venv"
  GOFUTURES_SANITIZE="$mode" "${pip[@]}" "$src[test]"
else   # --force-reinstall: the wheel of an older tree must never stay installed
  GOFUTURES_SANITIZE="$mode" "${pip[@]}" --force-reinstall --no-deps "$src"
fi

# Sanitizer reports of every process go to files in $reports (checked below).
run_env=()
python="$venv/bin/python"
case "$mode" in
  address)
    libasan="$(gcc -print-file-name=libasan.so)"
    [ -f "$libasan" ] || { echo "libasan.so not found (gcc -print-file-name)" >&2; exit 1; }
    # detect_leaks=0: CPython itself is not LeakSanitizer-clean (its
    #   interned strings, static types and thread locks are "leaked" at exit).
    # handle_segv/sigbus/sigfpe=0: tests make workers segfault on purpose and
    #   assert the signal death (-11); ASan's handler would turn it into exit 1.
    #   Memory errors are still caught by the instrumentation; Go keeps its
    #   own handlers for faults in Go code.
    # PYTHONMALLOC=malloc: Python objects come from malloc, so ASan sees a
    #   use-after-free or overflow of an object the shim freed.
    # The interpreter is not linked with libasan, so it must be preloaded
    # (else "ASan runtime does not come first in initial library list").
    # Only into Python: python-asan preloads it (and keeps itself as
    # sys.executable, so test subprocesses and spawn workers get it too), and
    # a .pth drops LD_PRELOAD again inside Python, because other programs
    # the tests run must not get it (procps-ng 4.0.2's `ps` deadlocks in
    # textdomain() with libasan preloaded). An ELF, not a script: a test
    # runs sys.executable under gdb.
    python="$venv/bin/python-asan"
    printf '#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>
int main(int argc, char **argv) {
    (void)argc;
    setenv("LD_PRELOAD", "%s", 1);
    execv("%s", argv);   /* argv[0] stays: sys.executable is python-asan */
    perror("python-asan: execv");
    return 127;
}\n' "$libasan" "$venv/bin/python" | gcc -O1 -x c -o "$python" -
    purelib="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    echo 'import os; os.environ.pop("LD_PRELOAD", None)' > "$purelib/_gofutures_asan.pth"
    run_env=(PYTHONMALLOC=malloc
      ASAN_OPTIONS="detect_leaks=0:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:allow_user_segv_handler=1:log_path=$reports/asan")
    deselect=(
      # RSS over a million tasks: ASan's quarantine (256 MB) of freed memory
      # grows RSS by design (320 MB seen on the thread pool); the process
      # pool's run outlasts the test's 100 s limit under ASan.
      --deselect tests/robustness/test_leaks.py::test_rss_bounded_over_a_million_tasks
    )
    ;;
  race)
    # halt_on_error=1: the first race ends that process with exitcode 66, so
    # a race in a test subprocess or worker fails its test too.
    run_env=(GORACE="halt_on_error=1 exitcode=66 log_path=$reports/race")
    deselect=(
      # A million tasks through the process pool outlast the test's 100 s
      # limit under the race detector (the thread pool's run takes ~30 s).
      --deselect "tests/robustness/test_leaks.py::test_rss_bounded_over_a_million_tasks[process]"
    )
    ;;
esac

# The sanitized runtime must load (race: TSan maps Go's data at start-up).
env "${run_env[@]}" "$python" -c "import gofutures._gofutures as m; m.__name__" || {
  echo "sanitize $mode: the sanitized extension does not load (exit $?)" >&2
  cat "$reports"/* 2>/dev/null >&2 || true
  exit 1; }
echo "== sanitize $mode: build took $((SECONDS - start)) s; pytest $*"

# One pytest process, unlike `make test`: sanitized code is CPU-bound, so a
# second process saves no time on two cores (measured: 354 s against 385 s)
# and doubles the load under the crash matrix's hang detector.
rc=0
env "${run_env[@]}" "$python" -m pytest -q "${deselect[@]}" "$@" || rc=$?
if [ $rc -eq 5 ]; then echo "sanitize $mode: pytest ran no test" >&2; rc=1; fi
if compgen -G "$reports/*" >/dev/null; then
  echo "sanitize $mode: sanitizer reports:" >&2
  for f in "$reports"/*; do echo "--- $f" >&2; cat "$f" >&2; done
  [ $rc -ne 0 ] || rc=1
fi
echo "== sanitize $mode: rc=$rc, $((SECONDS - start)) s in all"
exit $rc
