"""Issue 15: the build works with C23 compilers (GCC 15 and later default
to C23, where bool is a keyword and gopy's `typedef uint8_t bool;` is an
error), without extra flags.

This machine's GCC 12 knows -std=gnu2x but still treats bool as a plain
name there; -Dbool=_Bool stands in for C23's keyword (in C23, bool is the
same type as _Bool), which reproduces GCC 16's
"two or more data types in declaration specifiers" on the old preamble.
(The real GCC 16 build runs in a Debian testing chroot, issue 15's CI leg.)
"""
import os
import re
import shutil
import subprocess
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GO = os.environ.get("GO") or shutil.which("go") or "/usr/local/go/bin/go"
CC = shutil.which("gcc")
PY_INCLUDE = sysconfig.get_paths()["include"]

pytestmark = pytest.mark.skipif(not (os.path.exists(GO) and CC), reason="needs go and gcc")

# As a C23-default compiler: C23 mode, bool a keyword, and nullptr (which
# CPython 3.13's headers use in C23 mode; GCC 13+ have it, GCC 12 not).
C23 = ["-std=gnu2x", "-Dbool=_Bool", "-Dnullptr=((void*)0)"]


def glue_preamble():
    """The C preamble of the gopy glue (the comment just above import "C"),
    without its #cgo lines, as cgo hands it to the C compiler."""
    with open(os.path.join(ROOT, "pybind", "gopy_statsapi.go")) as f:
        src = f.read()
    m = re.search(r"\npackage main\n\n/\*\n(.*?)\*/\nimport \"C\"\n", src, re.S)
    assert m, "preamble not found"
    return "".join(line for line in m.group(1).splitlines(True) if not line.startswith("#cgo "))


def cc(tmp_path, flags, *extra):
    src = tmp_path / "preamble.c"
    src.write_text(glue_preamble())
    return subprocess.run([CC, *flags, *extra, "-I" + PY_INCLUDE, "-Wno-unused-function", str(src)],
                          capture_output=True, text=True, timeout=120)


def test_glue_preamble_compiles_as_c23(tmp_path):
    p = cc(tmp_path, C23, "-fsyntax-only")
    assert p.returncode == 0, p.stderr


def test_glue_preamble_typedefs_bool_only_before_c23(tmp_path):
    # In C23 mode the typedef is gone (bool is the compiler's); in C11 it
    # stays as gopy wrote it, so the exported functions' types do not change.
    c23 = cc(tmp_path, ["-std=gnu2x"], "-E")
    c11 = cc(tmp_path, ["-std=gnu11"], "-E")
    assert c23.returncode == 0 and c11.returncode == 0, c23.stderr + c11.stderr
    assert "typedef uint8_t bool;" not in c23.stdout
    assert "typedef uint8_t bool;" in c11.stdout


def test_cgo_standard_is_the_shims():
    # One explicit standard for the cgo code, the C shim's (setup.py).
    out = subprocess.run([GO, "list", "-tags", "gofutures_gopy", "-f", "{{join .CgoCFLAGS \" \"}}", "./pybind"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=True).stdout.split()
    with open(os.path.join(ROOT, "setup.py")) as f:
        shim = re.findall(r'"(-std=[^"]+)"', f.read())
    assert shim == ["-std=gnu11"]
    assert [f for f in out if f.startswith("-std=")] == shim


@pytest.mark.timeout(600)
def test_cgo_archive_builds_with_a_c23_compiler(tmp_path):
    # What setup.py runs, with a C23-default compiler's flags in CGO_CFLAGS.
    env = dict(os.environ, CGO_ENABLED="1", GOTOOLCHAIN="local", GOFLAGS="-mod=readonly",
               CGO_CFLAGS=" ".join(["-I" + PY_INCLUDE, "-O2"] + C23))
    p = subprocess.run([GO, "build", "-buildmode=c-archive", "-trimpath", "-tags", "gofutures_gopy",
                        "-o", str(tmp_path / "libgofutures.a"), "./pybind"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-4000:]
