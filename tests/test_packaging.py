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


def test_version_flag_does_not_load_go():
    code = ("import sys, runpy; sys.argv=['gofutures','--version'];\n"
            "try: runpy.run_module('gofutures', run_name='__main__')\n"
            "except SystemExit: pass\n"
            "print('gofutures._gofutures' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.split()[-1] == "False"
