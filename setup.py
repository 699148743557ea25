"""Builds gofutures' one extension module, gofutures._gofutures.

The Go packages (core/ and the C ABI in pybind/) are compiled with
`go build -buildmode=c-archive` into a static archive; the C shim (cshim/)
is compiled by setuptools and linked with the whole archive into a single
shared object. So the process holds exactly one Go runtime, and the
extension needs no libpython link (Py* symbols resolve against the running
interpreter).

The statistics API (core/stats/statsapi) is bound to Python by gopy: its
generated cgo glue (pybind/gopy_statsapi.go) is part of the archive and
includes Python.h, so the Go build gets this interpreter's include
directory; its generated C module (pybind/gopy/statsapi.c, PyInit__statsapi)
is linked into the same shared object, next to PyInit__gofutures. The
generated files are checked in (pybind/gopy/regen.py regenerates and
checks them), so building needs neither gopy nor pybindgen.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
from glob import glob

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))

GO_MISSING = """
gofutures: the Go toolchain was not found on PATH.

gofutures compiles its engine from Go source when it is installed, so it
needs Go 1.22 or newer with cgo (a C compiler such as gcc) available:
  - Debian/Ubuntu:  apt-get install golang-go gcc
  - other systems:  install Go from your package manager, then put `go` on PATH
Then run `pip install .` again. (Set GO=/path/to/go to use a specific one.)
"""

# Opt-in sanitizer builds for CI (tools/sanitize.sh). Unset or empty: the
# normal build, flags unchanged. Each entry: (extra `go build` flags, extra
# C compile flags, extra link flags) of the extension. Both link with
# -Bsymbolic, as Go's own c-shared link does: the Go runtime's assembly
# calls the sanitizer's entry points (__asan_read_go, __tsan_free, ...)
# with PC-relative relocations, which ld refuses against a preemptible
# symbol in a shared object.
SANITIZE = {
    # ASan on the C shim and gopy's C module, and Go's -asan on the archive
    # (its cgo C files are compiled with -fsanitize=address too). libasan is
    # linked dynamically: the interpreter must LD_PRELOAD it.
    "address": (["-asan"], ["-fsanitize=address", "-fno-omit-frame-pointer"],
                ["-fsanitize=address", "-Wl,-Bsymbolic"]),
    # The Go race detector; its TSan runtime (race_linux_amd64.syso) is in
    # the archive. The C side is not instrumented. Go's TSan mapping knows
    # application memory only below 0xe000000000: at the usual 0x7f...
    # address, mapping the shadow of Go's data fails ("ThreadSanitizer
    # failed to allocate ... (errno: 12)", exit 66). So the object asks to
    # be loaded at 0x10000000 (ld.so uses a shared object's p_vaddr as the
    # mmap hint).
    "race": (["-race"], [], ["-Wl,-Bsymbolic", "-Wl,-Ttext-segment=0x10000000"]),
}


def sanitize_mode():
    mode = os.environ.get("GOFUTURES_SANITIZE", "")
    if mode and mode not in SANITIZE:
        sys.stderr.write("gofutures: GOFUTURES_SANITIZE=%r: expected one of %s (or unset)\n"
                         % (mode, ", ".join(sorted(SANITIZE))))
        raise SystemExit(2)
    return mode


class build_go_ext(build_ext):
    def run(self):
        mode = sanitize_mode()
        go = os.environ.get("GO") or shutil.which("go")
        if not go:
            sys.stderr.write(GO_MISSING)
            raise SystemExit(1)
        out_dir = os.path.abspath(os.path.join(self.build_temp, "go"))
        os.makedirs(out_dir, exist_ok=True)
        archive = os.path.join(out_dir, "libgofutures.a")
        py_include = sysconfig.get_paths()["include"]   # for the gopy glue's Python.h
        cflags = ("-I%s %s" % (py_include, os.environ.get("CGO_CFLAGS", "-O2 -g"))).strip()
        env = dict(os.environ, CGO_ENABLED="1", GOTOOLCHAIN="local", GOFLAGS="-mod=readonly",
                   CGO_CFLAGS=cflags)
        # gofutures_gopy: include the gopy-generated glue (pybind/gopy_statsapi.go).
        cmd = [go, "build", "-buildmode=c-archive", "-trimpath", "-tags", "gofutures_gopy",
               "-o", archive, "./pybind"]
        if mode:
            go_flags, c_flags, link_flags = SANITIZE[mode]
            cmd[2:2] = go_flags
            print("gofutures: sanitizer build, GOFUTURES_SANITIZE=%s" % mode, flush=True)
        if os.path.exists(os.path.join(HERE, "vendor", "modules.txt")):
            cmd[2:2] = ["-mod=vendor"]   # an sdist: its vendor/ (sdist_vendored below)
        print(" ".join(cmd), flush=True)
        try:
            subprocess.run(cmd, cwd=HERE, env=env, check=True)
        except subprocess.CalledProcessError as e:
            sys.stderr.write("\ngofutures: `go build` failed (exit %d); see its output above.\n" % e.returncode)
            raise SystemExit(1)
        for ext in self.extensions:
            ext.include_dirs.append(out_dir)
            ext.extra_link_args = ["-Wl,--whole-archive", archive, "-Wl,--no-whole-archive",
                                   "-lpthread"] + list(ext.extra_link_args or [])
            ext.depends.append(archive)
            if mode:
                ext.extra_compile_args = list(ext.extra_compile_args) + c_flags
                ext.extra_link_args += link_flags
        super().run()


class sdist_vendored(sdist):
    """The sdist carries vendor/ (`go mod vendor`): installing it then needs Go
    but no Go module download (build_go_ext builds with -mod=vendor)."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        go = os.environ.get("GO") or shutil.which("go")
        if not go:
            sys.stderr.write(GO_MISSING)
            raise SystemExit(1)
        env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="")
        subprocess.run([go, "mod", "vendor", "-o", os.path.join(os.path.abspath(base_dir), "vendor")],
                       cwd=HERE, env=env, check=True)


setup(
    ext_modules=[
        Extension(
            "gofutures._gofutures",
            # cshim: the hand-written module; pybind/gopy: gopy's generated one.
            sources=sorted(glob("cshim/*.c")) + sorted(glob("pybind/gopy/*.c")),
            depends=sorted(glob("cshim/*.h")) + ["pybind/abi.h"],
            # libgofutures.h (cgo's export header) repeats pybind's preambles,
            # which include pybind/abi.h.
            include_dirs=["pybind"],
            extra_compile_args=["-O2", "-Wall", "-Wno-unused-parameter", "-std=gnu11"],
        )
    ],
    cmdclass={"build_ext": build_go_ext, "sdist": sdist_vendored},
)
