"""Builds gofutures' one extension module, gofutures._gofutures.

The Go packages (core/ and the C ABI in pybind/) are compiled with
`go build -buildmode=c-archive` into a static archive; the C shim (cshim/)
is compiled by setuptools and linked with the whole archive into a single
shared object. So the process holds exactly one Go runtime, and the
extension needs no libpython link (Py* symbols resolve against the running
interpreter).
"""
import os
import shutil
import subprocess
import sys
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
        env = dict(os.environ, CGO_ENABLED="1", GOTOOLCHAIN="local", GOFLAGS="-mod=readonly")
        cmd = [go, "build", "-buildmode=c-archive", "-trimpath", "-o", archive, "./pybind"]
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
            sources=sorted(glob("cshim/*.c")),
            depends=sorted(glob("cshim/*.h")),
            extra_compile_args=["-O2", "-Wall", "-Wno-unused-parameter", "-std=gnu11"],
        )
    ],
    cmdclass={"build_ext": build_go_ext},
)
