"""The README's first command runs the demonstration: it must run both
engines on the same work and find the same answers."""
import subprocess
import sys

import pytest


@pytest.mark.timeout(300)
def test_demo_runs_both_engines_and_the_results_agree():
    p = subprocess.run([sys.executable, "-m", "gofutures", "demo", "5000"], capture_output=True,
                       text=True, timeout=280)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("results agree: yes") == 2, p.stdout
    assert "threads:" in p.stdout and "processes:" in p.stdout
