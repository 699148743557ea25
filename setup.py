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

HERE = os.path.dirname(os.path.abspath(__file__))

GO_MISSING = """
gofutures: the Go toolchain was not found on PATH.

gofutures compiles its engine from Go source when it is installed, so it
needs Go 1.22 or newer with cgo (a C compiler such as gcc) available:
  - Debian/Ubuntu:  apt-get install golang-go gcc
  - other systems:  install Go from your package manager, then put `go` on PATH
Then run `pip install .` again. (Set GO=/path/to/go to use a specific one.)
"""


class build_go_ext(build_ext):
    def run(self):
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
        super().run()


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
    cmdclass={"build_ext": build_go_ext},
)
