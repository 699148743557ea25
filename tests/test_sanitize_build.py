"""setup.py's GOFUTURES_SANITIZE knob (tools/sanitize.sh): unset, the build
runs exactly today's commands; address/race add only their flags; any other
value stops the build before anything runs. Nothing is compiled: setup.py's
build_go_ext.run is called with `go build` and the C build stubbed out."""
import os
import subprocess
from pathlib import Path

import pytest

setuptools = pytest.importorskip("setuptools")   # venvs of 3.12+ have none
from setuptools.command.build_ext import build_ext  # noqa: E402

SETUP_PY = Path(__file__).resolve().parents[1] / "setup.py"
DEFAULT_CFLAGS = ["-O2", "-Wall", "-Wno-unused-parameter", "-std=gnu11"]


def run_build(monkeypatch, tmp_path, mode):
    """What build_go_ext.run would run: (go command, compile args, link args)."""
    captured = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kw: captured.update(kw))
    ns = {"__file__": str(SETUP_PY), "__name__": "setup"}
    exec(compile(SETUP_PY.read_text(), str(SETUP_PY), "exec"), ns)
    ext = captured["ext_modules"][0]
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.setattr(build_ext, "run", lambda self: None)
    if mode is None:
        monkeypatch.delenv("GOFUTURES_SANITIZE", raising=False)
    else:
        monkeypatch.setenv("GOFUTURES_SANITIZE", mode)
    monkeypatch.setenv("GO", "go")
    cls = ns["build_go_ext"]
    cmd = cls.__new__(cls)   # no Distribution: only the attributes run() reads
    cmd.build_temp, cmd.extensions = str(tmp_path), [ext]
    cmd.run()
    return calls, ext.extra_compile_args, ext.extra_link_args


def test_unset_builds_as_before(monkeypatch, tmp_path):
    (cmd,), cflags, ldflags = run_build(monkeypatch, tmp_path, None)
    archive = os.path.join(str(tmp_path), "go", "libgofutures.a")
    assert cmd == ["go", "build", "-buildmode=c-archive", "-trimpath", "-tags", "gofutures_gopy",
                   "-o", archive, "./pybind"]
    assert cflags == DEFAULT_CFLAGS
    assert ldflags == ["-Wl,--whole-archive", archive, "-Wl,--no-whole-archive", "-lpthread"]
    # Empty is unset too.
    assert run_build(monkeypatch, tmp_path, "")[1:] == (cflags, ldflags)


@pytest.mark.parametrize("mode, go_flag, cflag", [("address", "-asan", "-fsanitize=address"),
                                                   ("race", "-race", None)])
def test_modes_add_their_flags(monkeypatch, tmp_path, mode, go_flag, cflag):
    (cmd,), cflags, ldflags = run_build(monkeypatch, tmp_path, mode)
    assert cmd[:3] == ["go", "build", go_flag]
    assert cflags[:len(DEFAULT_CFLAGS)] == DEFAULT_CFLAGS
    assert (cflag in cflags) == (cflag is not None)
    assert "-Wl,-Bsymbolic" in ldflags


@pytest.mark.parametrize("bad", ["thread", "ADDRESS", "address,race", " race"])
def test_bad_value_is_rejected_before_building(monkeypatch, tmp_path, capsys, bad):
    with pytest.raises(SystemExit) as e:
        run_build(monkeypatch, tmp_path, bad)
    assert e.value.code == 2
    assert "GOFUTURES_SANITIZE" in capsys.readouterr().err
