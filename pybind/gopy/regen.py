#!/usr/bin/env python3
"""Regenerates the gopy bindings of core/stats/statsapi, or checks them.

    python3 pybind/gopy/regen.py          # rewrite the generated files
    python3 pybind/gopy/regen.py --check  # exit 1 if they are not current (CI)

gopy v0.4.10 builds its own c-shared library linked to libpython (a second
Go runtime: see design-notes), so only `gopy gen` is used, and its output
is compiled into gofutures' one extension by setup.py:

  pybind/gopy_statsapi.go     the cgo glue (package main, next to the C ABI)
  pybind/gopy/statsapi.c      the CPython module _statsapi (pybindgen output)
  python/gofutures/_gopy/     gopy's Python wrappers (statsapi.py, go.py)

The generated files are post-processed in fixed ways (see fix_*): no
build-machine paths or libpython link in the #cgo lines (setup.py passes
the interpreter's include directory), no second func main, a build tag
(gofutures_gopy, set by setup.py) so that `go vet/test ./...` need no
Python headers, the export header is gofutures' own, the wrappers
import without chdir(), gopy's `bool` typedef only before C23, no GIL
release inside Go frames, and no C function enters Go in a forked child.

The tools are pinned here and built into a cache directory on first use:
gopy from the Go module proxy, with golang.org/x/tools raised to v0.30.0
(the v0.16.0 gopy pins does not compile with Go 1.26), goimports from the
same x/tools, and pybindgen from PyPI into a private virtualenv.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

GOPY = "v0.4.10"
XTOOLS = "v0.30.0"
PYBINDGEN = "0.22.1"

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PKG = "github.com/gofutures/gofutures/core/stats/statsapi"
NAME = "statsapi"
CANONICAL_CMD = "gopy gen -name=%s %s  (then pybind/gopy/regen.py)" % (NAME, PKG)

# generated file -> checked-in path (relative to ROOT)
OUTPUTS = {
    NAME + ".go": "pybind/gopy_%s.go" % NAME,
    NAME + ".c": "pybind/gopy/%s.c" % NAME,
    NAME + ".py": "python/gofutures/_gopy/%s.py" % NAME,
    "go.py": "python/gofutures/_gopy/go.py",
}


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def tools(cache):
    """Builds (once) the pinned gopy, goimports and a python with pybindgen."""
    go = os.environ.get("GO") or shutil.which("go") or "/usr/local/go/bin/go"
    bin_dir = os.path.join(cache, "bin-gopy%s-xtools%s" % (GOPY, XTOOLS))
    mod = os.path.join(cache, "toolmod")
    if not os.path.exists(os.path.join(bin_dir, "gopy")):
        os.makedirs(mod, exist_ok=True)
        with open(os.path.join(mod, "go.mod"), "w") as f:
            f.write("module gofutures/gopytool\n\ngo 1.22\n")
        env = dict(os.environ, GOFLAGS="-mod=mod")
        run([go, "get", "github.com/go-python/gopy@" + GOPY, "golang.org/x/tools@" + XTOOLS], cwd=mod, env=env)
        run([go, "build", "-o", os.path.join(bin_dir, "gopy"), "github.com/go-python/gopy"], cwd=mod, env=env)
        run([go, "build", "-o", os.path.join(bin_dir, "goimports"), "golang.org/x/tools/cmd/goimports"],
            cwd=mod, env=env)
    venv = os.path.join(cache, "venv-pybindgen" + PYBINDGEN)
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        run([sys.executable, "-m", "venv", venv])
        run([py, "-m", "pip", "install", "-q", "pybindgen==" + PYBINDGEN])
    return go, bin_dir, py


def fix_go(s):
    # Build-machine include path and libpython link out: setup.py gives the
    # include directory of the interpreter being built for (CGO_CFLAGS) and
    # the extension resolves Py* against the running interpreter.
    s = re.sub(r"^#cgo CFLAGS: .*$", "#cgo CFLAGS: -Wno-error -Wno-implicit-function-declaration "
               "-Wno-int-conversion", s, flags=re.M)
    s = re.sub(r"^#cgo LDFLAGS: .*\n", "", s, flags=re.M)
    # pybind already has the package's func main.
    s, n = re.subn(r"// main doesn't do anything[^\n]*\nfunc main\(\) \{\s*\}\n", "", s)
    assert n == 1, "func main not found"
    # C23 (GCC 15+'s default) makes bool a keyword: gopy's typedef is then
    # an error. Keep it (same type as before) only where bool is a free name.
    s, n = re.subn(r"^typedef uint8_t bool;$",
                   "#if !defined(bool) && !(defined(__STDC_VERSION__) && __STDC_VERSION__ > 201710L)\n"
                   "typedef uint8_t bool;   // before C23 only: there bool is a keyword (regen.py)\n"
                   "#endif", s, flags=re.M)
    assert n == 1, "bool typedef not found"
    # gopy releases the GIL around each package function, inside the Go
    # frame of the exported function. A thread that retakes it during
    # interpreter finalization is ended by CPython (pthread_exit on 3.9-3.13)
    # through Go frames, which Go does not survive. These statistics calls
    # are short and never block, so they keep the GIL: no thread-state
    # switch happens inside Go.
    s, n = re.subn(r"^\t_saved_thread := C\.PyEval_SaveThread\(\)\n\tdefer C\.PyEval_RestoreThread\(_saved_thread\)$",
                   "\t// GIL kept (pybind/gopy/regen.py): no thread-state switch inside a Go frame", s, flags=re.M)
    assert n >= 1 and "PyEval_SaveThread" not in s and "PyEval_RestoreThread" not in s, \
        "GIL release not found or not all removed"
    # Built only by setup.py (go build -tags gofutures_gopy, with Python.h's
    # directory in CGO_CFLAGS), so that go vet/test ./... need no Python headers.
    return "//go:build gofutures_gopy\n\n" + s


FORK_GUARD_C = r"""
/* Fork guard (added by pybind/gopy/regen.py). In a child forked after the
 * Go engine was loaded, a call into Go may hang for ever (cshim/fork.h), so
 * no function of this module enters Go there: DecRef and IncRef (called by
 * the wrappers' __del__ and copies) do nothing, the Go objects being the
 * parent's garbage; every other function raises RuntimeError. */
extern volatile int gf_forked;   /* cshim/module.c, set by pthread_atfork */
#define GF_GOPY_FORKED_NOOP() do { if (gf_forked) Py_RETURN_NONE; } while (0)
#define GF_GOPY_FORK_GUARD() do { \
        if (gf_forked) { \
            PyErr_SetString(PyExc_RuntimeError, \
                            "gofutures statistics cannot be read in a process forked after the " \
                            "Go engine was loaded (the Go engine does not survive fork)"); \
            return NULL; \
        } \
    } while (0)
"""


def fix_c(s):
    s, n = re.subn(r'#include "%s_go.h"' % NAME,
                   lambda m: '#include "libgofutures.h"  /* the one export header */\n' + FORK_GUARD_C, s)
    assert n == 1
    # Every wrapper calls Go: each checks the fork guard first.
    def guard(m):
        noop = m.group(2) in ("DecRef", "IncRef")
        return m.group(1) + ("    GF_GOPY_FORKED_NOOP();\n" if noop else "    GF_GOPY_FORK_GUARD();\n")
    s, n = re.subn(r"^(PyObject \*\n_wrap__%s_(\w+)\([^\n]*\)\n\{\n)" % NAME, guard, s, flags=re.M)
    assert n == s.count("(PyCFunction) _wrap__%s_" % NAME) and n > 0, "wrappers not all guarded"
    return s


def fix_py(s):
    # gopy's wrappers chdir() to their directory around the import of the C
    # module (to help dlopen find a separate .so): a process-wide side effect
    # with threads running, and useless here (gofutures/_gopy/__init__.py
    # loads _statsapi from gofutures' own extension).
    s, n = re.subn(r"\ncwd = os.getcwd\(\)\ncurrentdir = [^\n]*\nos.chdir\(currentdir\)\n", "\n", s)
    assert n == 1, "chdir prologue not found"
    s, n = re.subn(r"\nos.chdir\(cwd\)\n", "\n", s)
    assert n == 1
    return s


def fix_header(s):
    # The command line gopy records names the build machine's paths.
    return re.sub(r"^(#|//)? ?gopy gen .*$", lambda m: (m.group(1) + " " if m.group(1) else "") + CANONICAL_CMD,
                  s, flags=re.M)


def same(a, b):
    """Whether two generated files are equivalent. gopy emits package-level
    functions (and a struct's constructors) in Go map order, so the same
    input yields them in varying order from run to run; a reordering of
    whole top-level definitions changes nothing, so the lines are compared
    as multisets (any added, removed or changed line still counts)."""
    return a == b or sorted(a.splitlines()) == sorted(b.splitlines())


def generate(out, cache):
    go, bin_dir, py = tools(cache)
    env = dict(os.environ, PATH=os.pathsep.join([bin_dir, os.path.dirname(go), os.path.dirname(py),
                                                 os.environ.get("PATH", "")]))
    env["GOFLAGS"] = "-mod=mod"
    run(["gopy", "gen", "-vm=" + py, "-output=" + out, "-name=" + NAME, PKG], cwd=ROOT, env=env)
    run(["goimports", "-w", NAME + ".go"], cwd=out, env=env)
    run([py, "build.py"], cwd=out, env=env)   # pybindgen writes statsapi.c
    fixes = {NAME + ".go": fix_go, NAME + ".c": fix_c, NAME + ".py": fix_py, "go.py": fix_py}
    for name, fix in fixes.items():
        p = os.path.join(out, name)
        with open(p) as f:
            s = fix_header(fix(f.read()))
        with open(p, "w") as f:
            f.write(s)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the checked-in files; change nothing")
    ap.add_argument("--cache", default=os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                                                    "gofutures-gopy"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as out:
        generate(out, a.cache)
        stale = []
        for name, dest in OUTPUTS.items():
            dest = os.path.join(ROOT, dest)
            with open(os.path.join(out, name)) as f:
                new = f.read()
            old = None
            if os.path.exists(dest):
                with open(dest) as f:
                    old = f.read()
            if old is not None and same(old, new):
                continue   # current (kept as is: no churn from gopy's ordering)
            if a.check:
                stale.append(os.path.relpath(dest, ROOT))
            else:
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with open(dest, "w") as f:
                    f.write(new)
                print("wrote", os.path.relpath(dest, ROOT))
    if stale:
        print("gopy bindings out of date (run python3 pybind/gopy/regen.py):\n  " + "\n  ".join(stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
