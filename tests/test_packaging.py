"""Packaging (issue 16): one version, a complete sdist that installs where Go
is, and a wheel that works where Go is not.

The version tests always run. The sdist and wheel tests build and install
into fresh venvs (a minute or more each), so they run only when
GOFUTURES_PACKAGING=1 (tools/ci-packaging.sh sets it); the sdist test also
needs `go` and `git`, the wheel test a built wheel (GOFUTURES_WHEEL, made by
tools/build-wheels.sh).
"""
import os
import re
import shutil
import subprocess
import sys
import tarfile
import venv

import pytest

import gofutures

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = os.environ.get("GOFUTURES_PACKAGING") == "1"
heavy = pytest.mark.skipif(not HEAVY, reason="builds and installs into fresh venvs: set "
                           "GOFUTURES_PACKAGING=1 (tools/ci-packaging.sh does)")


def _version_in_source():
    with open(os.path.join(ROOT, "python", "gofutures", "_version.py")) as f:
        return re.search(r'^__version__ = "([^"]+)"$', f.read(), re.M).group(1)


def test_one_version_for_package_cli_and_metadata():
    from importlib.metadata import version
    v = gofutures.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc)?\d*", v), v
    # The installed distribution's metadata was built from the same place.
    assert version("gofutures") == v
    out = subprocess.run([sys.executable, "-m", "gofutures", "--version"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert out.split() == ["gofutures", v]
    if os.path.exists(os.path.join(ROOT, "python", "gofutures", "_version.py")):
        assert _version_in_source() == v   # run from a checkout: the source agrees


def test_version_is_not_written_elsewhere():
    # pyproject.toml takes it from _version.py ([tool.setuptools.dynamic]).
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        text = f.read()
    assert re.search(r'^dynamic = \["version"\]', text, re.M)
    assert not re.search(r'^version = "', text, re.M)
    assert 'version = {attr = "gofutures._version.__version__"}' in text


def test_every_subpackage_is_listed_for_the_build():
    # pyproject.toml names the packages one by one: a subpackage left out
    # (bench/, tools/) would be missing from the sdist's install and the wheel.
    src = os.path.join(ROOT, "python")
    if not os.path.isdir(os.path.join(src, "gofutures")):
        pytest.skip("not run from a source checkout")
    found = sorted(os.path.relpath(d, src).replace(os.sep, ".")
                   for d, _, files in os.walk(os.path.join(src, "gofutures"))
                   if "__init__.py" in files)
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        listed = re.search(r"^packages = \[([^\]]*)\]", f.read(), re.M).group(1)
    assert sorted(re.findall(r'"([^"]+)"', listed)) == found


def test_version_flag_does_not_load_go():
    code = ("import sys, runpy; sys.argv=['gofutures','--version'];\n"
            "try: runpy.run_module('gofutures', run_name='__main__')\n"
            "except SystemExit: pass\n"
            "print('gofutures._gofutures' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.split()[-1] == "False"


# What an sdist must carry for `pip install` of it to build: the Go module,
# its C ABI header and gopy-generated C module, the C shim, vendor/.
SDIST_MUST = [
    "go.mod", "go.sum", "setup.py", "pyproject.toml", "MANIFEST.in", "README.md",
    "core/future.go", "core/threadpool.go", "core/procpool.go", "core/stats/clock_amd64.s",
    "core/stats/statsapi/statsapi.go",
    "pybind/abi.h", "pybind/cstd.go", "pybind/gopy_statsapi.go", "pybind/gopy/statsapi.c",
    "cshim/module.c", "cshim/gofutures.h", "cshim/guard.h", "cshim/fork.h",
    "python/gofutures/__init__.py", "python/gofutures/_version.py",
    "python/gofutures/_gopy/statsapi.py", "python/gofutures/conformance/deviations.txt",
    "python/gofutures/py.typed", "python/gofutures/__init__.pyi", "python/gofutures/thread.pyi",
    "python/gofutures/process.pyi", "python/gofutures/_executor.pyi",
    "vendor/modules.txt", "vendor/github.com/go-python/gopy/gopyh/handle.go",
]
# Build output and caches: none may ship.
SDIST_MUST_NOT = re.compile(r"(^|/)(build|dist|__pycache__|\.hypothesis|\.pytest_cache|\.tox|"
                            r"\.git)(/|$)|\.(so|a|o|pyc)$")

SMOKE = r"""
import os, sys, gofutures
from gofutures import ThreadPoolExecutor, ProcessPoolExecutor, wait, as_completed
assert gofutures.__file__.startswith(sys.prefix), gofutures.__file__
with ThreadPoolExecutor(2, max_pending=8) as ex:
    fs = [ex.submit(pow, 2, i) for i in range(10)]
    assert sorted(f.result() for f in as_completed(fs)) == [2 ** i for i in range(10)]
    assert list(ex.map(abs, [-1, -2], buffersize=1)) == [1, 2]
with ProcessPoolExecutor(2) as ex:
    assert list(ex.map(abs, [-3, 4])) == [3, 4]
assert gofutures.stats().submitted >= 12, gofutures.stats()
print("smoke ok", gofutures.__version__)
"""


def _fresh_venv(path):
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return os.path.join(path, "bin", "python")


def _run(cmd, **kw):
    kw.setdefault("timeout", 600)
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert p.returncode == 0, "%s\nexit %d\n%s\n%s" % (cmd, p.returncode, p.stdout[-3000:],
                                                       p.stderr[-5000:])
    return p.stdout


def _smoke_and_conformance(py, cwd):
    assert "smoke ok" in _run([py, "-c", SMOKE], cwd=cwd)
    # Exits 0 (and says so) where the interpreter lacks CPython's test suite.
    _run([py, "-m", "gofutures.conformance", "--select", "threads"], cwd=cwd)


@heavy
@pytest.mark.timeout(900)
@pytest.mark.skipif(shutil.which("go") is None and not os.environ.get("GO"),
                    reason="building and installing the sdist needs the Go toolchain on PATH")
@pytest.mark.skipif(shutil.which("git") is None or not os.path.isdir(os.path.join(ROOT, ".git"))
                    and not os.path.isfile(os.path.join(ROOT, ".git")),
                    reason="the sdist is built from `git archive HEAD`: needs git and a checkout")
def test_sdist_is_complete_and_installs(tmp_path):
    pytest.importorskip("build", reason="the sdist is made by `python -m build` (test extra)")
    # A clean tree: HEAD as committed, not the working tree's build output.
    src = tmp_path / "src"
    src.mkdir()
    archive = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", "HEAD"],
                             capture_output=True, check=True, timeout=120).stdout
    tar_path = tmp_path / "head.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as t:
        t.extractall(src, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--sdist", "-o", str(dist), str(src)], cwd=str(tmp_path))
    (sdist,) = list(dist.glob("gofutures-*.tar.gz"))
    assert sdist.name == "gofutures-%s.tar.gz" % gofutures.__version__
    with tarfile.open(sdist) as t:
        names = [n.split("/", 1)[1] for n in t.getnames() if "/" in n]
    missing = [n for n in SDIST_MUST if n not in names]
    assert not missing, missing
    bad = [n for n in names if SDIST_MUST_NOT.search(n)]
    assert not bad, bad
    # Every Go and C file of the checkout's build ships.
    tracked = subprocess.run(["git", "-C", ROOT, "ls-files", "core", "pybind", "cshim"],
                             capture_output=True, text=True, check=True).stdout.split()
    assert not [n for n in tracked if n not in names]

    # Install it as a user would, into a fresh venv (pip's build isolation
    # fetches the pinned setuptools), then use it from outside the tree.
    py = _fresh_venv(str(tmp_path / "venv"))
    # No Go module download and an empty module cache: vendor/ must suffice.
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", GOPROXY="off", GOFLAGS="",
               GOMODCACHE=str(tmp_path / "gomodcache"))
    env.pop("PYTHONPATH", None)
    _run([py, "-m", "pip", "install", "-q", str(sdist)], cwd=str(tmp_path), env=env)
    _smoke_and_conformance(py, str(tmp_path))


def elf_needed(path):
    """DT_NEEDED of an ELF64 little-endian shared object (x86_64, aarch64)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, path
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads, dyn = [], None
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type == 1:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == 2:
            dyn = (p_offset, p_filesz)
    entries = [struct.unpack_from("<qQ", data, dyn[0] + o) for o in range(0, dyn[1], 16)]
    strtab = next(v for t, v in entries if t == 5)
    strtab = next(off + strtab - va for va, off, sz in loads if va <= strtab < va + sz)
    return sorted(data[strtab + v:data.index(b"\0", strtab + v)].decode()
                  for t, v in entries if t == 1)


# The subset of the suite run against an installed wheel, where neither Go
# nor a C compiler exists: the Future, the thread pool and the process pool
# (their build tests need Go: -k 'not build'). About a minute.
WHEEL_SUBSET = ["tests/test_future.py", "tests/test_thread_pool.py", "tests/test_process_pool.py"]
WHEEL_SUBSET_K = "not build"


def _wheel_for_this_python():
    if os.environ.get("GOFUTURES_WHEEL"):
        return os.environ["GOFUTURES_WHEEL"]
    tag = "cp%d%d" % sys.version_info[:2]
    house = os.path.join(ROOT, "build", "wheelhouse")
    found = sorted(n for n in os.listdir(house) if n.startswith("gofutures-%s-%s-%s-"
                   % (gofutures.__version__, tag, tag)) and "manylinux" in n) \
        if os.path.isdir(house) else []
    return os.path.join(house, found[-1]) if found else None


@heavy
@pytest.mark.timeout(600)
def test_wheel_works_without_go_or_compiler(tmp_path):
    whl = _wheel_for_this_python()
    if not whl:
        pytest.skip("no manylinux wheel for this CPython in build/wheelhouse: "
                    "run tools/build-wheels.sh (or set GOFUTURES_WHEEL)")
    assert re.search(r"[-.]manylinux_2_\d+_(x86_64|aarch64)\.whl$", whl), whl
    py = _fresh_venv(str(tmp_path / "venv"))
    # The test extra's pinned packages come from the index (pip's cache).
    _run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", whl + "[test]"],
         cwd=str(tmp_path))
    # A PATH with python only: no go, no cc/gcc, and no compiler or Go env.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh",):
        os.symlink(shutil.which(tool), bin_dir / tool)
    path = os.pathsep.join([os.path.dirname(py), str(bin_dir)])
    for tool in ("go", "gcc", "cc", "clang", "zig"):
        assert shutil.which(tool, path=path) is None, tool
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith(("GO", "CGO_", "PYTHON")) or k in ("CC", "CXX", "LDSHARED",
                                                                    "CFLAGS", "LDFLAGS"))}
    env["PATH"] = path
    # The tests, away from the checkout, so only the installed wheel imports.
    tests = tmp_path / "tests"
    shutil.copytree(os.path.join(ROOT, "tests"), tests,
                    ignore=shutil.ignore_patterns("__pycache__", "test_packaging.py", "typing"))
    where = _run([py, "-c", "import gofutures, gofutures._ext as e; e.load(); "
                  "print(gofutures.__file__)"], cwd=str(tmp_path), env=env)
    assert where.strip().startswith(str(tmp_path / "venv")), where
    # The extension needs glibc's libc and libpthread only: no libpython
    # (Py* symbols resolve in the running interpreter), nothing to bundle.
    (so,) = (tmp_path / "venv").glob("lib/python*/site-packages/gofutures/_gofutures*.so")
    assert set(elf_needed(str(so))) <= {"libc.so.6", "libpthread.so.0"}, elf_needed(str(so))
    out = _run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "timeout=120",
                "-k", WHEEL_SUBSET_K] + WHEEL_SUBSET, cwd=str(tmp_path), env=env)
    assert re.search(r"\d+ passed", out) and " failed" not in out, out[-2000:]
    _smoke_and_conformance(py, str(tmp_path))


TYPING = os.path.join(ROOT, "tests", "typing")


def _mypy(tmp_path, name):
    pytest.importorskip("mypy", reason="mypy (test extra) needs Python 3.10+")
    # From a directory outside the checkout: mypy must find the installed
    # package (its py.typed and .pyi files), not python/ in the tree.
    p = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"),
                        "--no-error-summary", "--show-error-codes", "--hide-error-context",
                        os.path.join(TYPING, name)],
                       capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    return p.returncode, p.stdout + p.stderr


@pytest.mark.timeout(600)
def test_mypy_user_code(tmp_path):
    rc, out = _mypy(tmp_path, "user_code.py")
    assert rc == 0, out


@pytest.mark.timeout(600)
def test_mypy_catches_misuse(tmp_path):
    rc, out = _mypy(tmp_path, "user_errors.py")
    assert rc == 1, out
    with open(os.path.join(TYPING, "user_errors.py")) as f:
        marked = {i for i, line in enumerate(f, 1) if line.rstrip().endswith("# E")}
    flagged = {int(m.group(1)) for m in re.finditer(r"user_errors\.py:(\d+): error", out)}
    assert flagged == marked, out
