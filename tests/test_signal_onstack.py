"""Signal handlers installed after the engine loaded run on the signal stack
(SA_ONSTACK), so a signal landing on a Go thread never runs Python's
handler on a goroutine's stack. CPython 3.10+ sets the flag itself; on 3.9
gofutures does (_ext.py), and without it a signal storm crashed the Go
runtime ("unexpected return pc", tests/robustness/test_signals.py)."""
import signal
import subprocess
import sys

SCRIPT = r"""
import signal
import gofutures
gofutures.Future()                      # loads the engine (Go's runtime starts)
from gofutures import _ext
ext = _ext.load()
old = signal.signal(signal.SIGUSR1, lambda *a: None)
print(ext.onstack(signal.SIGUSR1, False), old == signal.SIG_DFL)
signal.signal(signal.SIGUSR2, signal.SIG_IGN)
print(ext.onstack(signal.SIGUSR2, False))
"""


def test_handlers_installed_after_load_run_on_the_signal_stack():
    p = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["True", "True", "True"], p.stdout
