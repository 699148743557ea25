"""The build and the package boundary: one extension holding the one Go
runtime, loaded on first use only, and a clear message without Go."""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(code, env=None):
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                       text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_import_and_install_do_not_load_go():
    out = run("""
        import os, sys, gofutures
        gofutures.install()
        import concurrent.futures as cf
        assert cf.ThreadPoolExecutor is gofutures.ThreadPoolExecutor
        print("gofutures._gofutures" in sys.modules, len(os.listdir("/proc/self/task")))
    """)
    assert out.split() == ["False", "1"]


def test_first_use_loads_go():
    out = run("""
        import os, sys, gofutures
        gofutures.Future
        print("gofutures._gofutures" in sys.modules, len(os.listdir("/proc/self/task")) > 1)
    """)
    assert out.split() == ["True", "True"]


def test_exactly_one_go_runtime_in_the_process():
    # Every mapped file that carries Go build info holds a Go runtime.
    out = run("""
        import gofutures
        with gofutures.ThreadPoolExecutor(2) as ex:
            ex.submit(abs, 1).result()
        paths = set()
        for line in open("/proc/self/maps"):
            parts = line.split()
            if len(parts) >= 6 and parts[5].startswith("/"):
                paths.add(parts[5])
        go = [p for p in sorted(paths) if b"\\xff Go buildinf:" in open(p, "rb").read()]
        print("\\n".join(go))
    """)
    found = out.split()
    assert len(found) == 1, found
    assert os.path.basename(found[0]).startswith("_gofutures.")


@pytest.mark.skipif(sys.version_info < (3, 12), reason="the fork warning exists on 3.12+")
def test_fork_after_import_does_not_warn():
    out = run("""
        import os, warnings, gofutures
        warnings.simplefilter("error")
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        print("ok")
    """)
    assert out.strip() == "ok"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs a C toolchain")
def test_missing_go_gives_one_clear_message(tmp_path):
    # What a user without Go sees from `pip install .`.
    env = dict(os.environ, PATH=os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep)
        if d and not os.path.exists(os.path.join(d, "go"))))
    env.pop("GO", None)
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), ROOT],
                       capture_output=True, text=True, timeout=600, env=env)
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert "gofutures: the Go toolchain was not found on PATH." in out
    assert "apt-get install golang-go" in out
    assert "Traceback" not in out
