"""The conformance runner (python -m gofutures.conformance): its deviation
file, its verdicts, and runs of CPython's suite against gofutures."""
import io
import subprocess
import sys
import textwrap
from contextlib import redirect_stdout

import pytest

from gofutures import conformance
from gofutures.conformance import _deviations, _suite, _tally

HAS_SUITE = _suite.find() is not None


def test_runner_skips_cleanly_without_the_suite(monkeypatch):
    monkeypatch.setattr(_suite, "find", lambda: None)
    out = io.StringIO()
    with redirect_stdout(out):
        rc = conformance.main([])
    assert rc == 0
    assert out.getvalue().startswith("conformance: SKIPPED:")
    assert "does not ship test.test_concurrent_futures" in out.getvalue()


def test_deviation_file_parses_per_version(tmp_path):
    p = tmp_path / "dev.txt"
    p.write_text("# comment\n"
                 "A.test_x  *  reads _threads\n"
                 "B.test_y  3.9,3.10  reads _processes  # why\n")
    assert _deviations.parse(p, "3.13") == {"A.test_x": "reads _threads"}
    assert _deviations.parse(p, "3.10") == {"A.test_x": "reads _threads",
                                            "B.test_y": "reads _processes"}
    p.write_text("A.test_x *\n")
    with pytest.raises(ValueError):
        _deviations.parse(p, "3.13")


def test_packaged_deviation_file_is_well_formed():
    for v in ("3.9", "3.10", "3.13"):
        for key, reason in _deviations.parse(version=v).items():
            assert "." in key and reason


def test_judge():
    P, F, E, S = _tally.PASS, _tally.FAIL, _tally.ERROR, _tally.SKIP
    keys = {"C.ok", "C.listed_fails", "C.listed_passes", "C.new_failure", "C.err", "C.skip"}
    outcomes = {"C.ok": P, "C.listed_fails": F, "C.listed_passes": P, "C.new_failure": F,
                "C.err": E, "C.skip": S}
    known = {"C.listed_fails": "r1", "C.listed_passes": "r2", "C.gone": "r3", "C.skip": "r4"}
    seen, problems = _deviations.judge(outcomes, known, keys)
    assert seen == {"C.listed_fails": "r1"}
    assert sorted(k for k, _ in problems) == ["C.err", "C.gone", "C.listed_passes", "C.new_failure"]


def run_runner(*args, prelude="", timeout=600):
    code = prelude + "import sys; from gofutures import conformance; sys.exit(conformance.main(sys.argv[1:]))"
    p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout


needs_suite = pytest.mark.skipif(not HAS_SUITE, reason="this Python has no test.test_concurrent_futures")


@needs_suite
def test_runner_runs_the_suite_on_gofutures():
    rc, out = run_runner("-k", "ThreadPoolAsCompletedTest.*", "-k", "ThreadPoolWaitTest*.*")
    assert rc == 0, out
    assert "ThreadPoolExecutor=gofutures" in out and "wait=gofutures" in out
    assert "ThreadPoolAsCompletedTest" in out
    total = out.strip().splitlines()[-1]
    assert total.startswith("TOTAL ") and total.endswith("; OK")
    assert " 0 failed, 0 errors" in total


@needs_suite
def test_future_gofutures_makes_the_suite_build_gofutures_futures():
    code = textwrap.dedent("""
        import sys
        from gofutures.conformance import _suite
        _suite.point_at_gofutures()
        _suite._import_tests(sys.argv[1])
        mods = [m for n, m in list(sys.modules.items())
                if n.startswith(_suite.SUITE) and hasattr(m, "create_future")]
        print(type(mods[0].create_future()).__module__)
    """)
    kinds = []
    for future in ("stdlib", "gofutures"):
        p = subprocess.run([sys.executable, "-c", code, future], capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        kinds.append(p.stdout.strip())
    assert kinds == ["concurrent.futures._base", "gofutures"]


@needs_suite
def test_runner_fails_on_a_broken_gofutures():
    # If the suite were not really running gofutures' functions, breaking
    # them would change nothing.
    broken = ("import gofutures._wait as w\n"
              "w.as_completed = lambda fs, timeout=None: iter(())\n")
    rc, out = run_runner("-k", "ThreadPoolAsCompletedTest.*", prelude=broken)
    assert rc == 1, out
    assert "FAIL: ThreadPoolAsCompletedTest." in out and "not a known deviation" in out
    assert out.strip().splitlines()[-1].startswith("TOTAL ")


@needs_suite
def test_runner_fails_when_a_listed_deviation_passes(tmp_path):
    dev = tmp_path / "dev.txt"
    dev.write_text("ThreadPoolAsCompletedTest.test_no_timeout  *  pretend it reads _threads\n")
    rc, out = run_runner("--deviations", str(dev), "-k", "ThreadPoolAsCompletedTest.test_no_timeout")
    assert rc == 1, out
    assert "ThreadPoolAsCompletedTest.test_no_timeout: passes now" in out
