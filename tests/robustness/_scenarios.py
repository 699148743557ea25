"""Scenario helpers of the robustness suite: every scenario is a script run in
its own interpreter, once per implementation (the stdlib's
concurrent.futures and gofutures) and per pool kind, with hard timeouts on
everything that can block.

A scenario script is written once and never mentions an implementation: its
first line (PRELUDE) binds `cf` to concurrent.futures or gofutures and
`Pool` to the executor class from the environment, so both runs execute the
very same file and their outputs (tracebacks included) compare as they are.
Scripts keep their tasks at module level and their main code under
`if __name__ == "__main__":`, so that a process-pool variant (tasks pickled,
__main__ re-imported under spawn) can run them unchanged.
"""
import os
import re
import select
import subprocess
import sys
import time

import pytest
from scenario_script import BLOCK_TASK, kill_session, run_in_session, write_script

IMPLS = ["stdlib", "gofutures"]

# PROCESS POOL: add "process" here once gofutures.ProcessPoolExecutor exists
# (and its entry in PRELUDE's POOLS); every test parametrized over POOL_KINDS
# then runs on it too. The prelude's helpers are already process-safe:
# block_task is a module-level function (picklable; spawn re-imports the
# script as __mp_main__) and release() is a file, seen by every process.
POOL_KINDS = ["thread", "process"]

# Hard bounds: a subprocess that outlives these is a hang, reported as a
# failure (never as a timing claim).
SCRIPT_TIMEOUT = 60
SIGNAL_BOUND = 10.0

# Both implementations run the very same file, so tracebacks compare as-is.
PRELUDE = """\
import os, sys, time, threading
if os.environ["ROBUST_IMPL"] == "stdlib":
    import concurrent.futures as cf
else:
    import gofutures as cf
POOLS = {"thread": "ThreadPoolExecutor", "process": "ProcessPoolExecutor"}
Pool = getattr(cf, POOLS[os.environ["ROBUST_POOL"]])
""" + BLOCK_TASK


def script(tmp_path, body, name="scenario.py"):
    """Writes PRELUDE + body to a file; returns its path."""
    return write_script(tmp_path, PRELUDE, body, name)


def env_for(impl, pool="thread", extra=None):
    env = dict(os.environ, ROBUST_IMPL=impl, ROBUST_POOL=pool, PYTHONFAULTHANDLER="1")
    env.pop("PYTHONDEVMODE", None)
    if extra:
        env.update(extra)
    return env


def run(path, impl, pool="thread", args=(), env=None, timeout=SCRIPT_TIMEOUT, pyargs=()):
    """Runs a scenario file to its end in a new session. Returns the
    CompletedProcess; fails the test on a hang, and when a process of the
    scenario's session outlives it (an orphaned or zombie worker)."""
    cmd = [sys.executable, *pyargs, path, *args]
    p, out, err = run_in_session(cmd, env_for(impl, pool, env), timeout, f"{impl}/{pool}")
    leftovers = session_processes(p.pid)
    # From 3.14 the default start method is forkserver: the workers are the
    # forkserver's children and end moments after the main process (then are
    # reparented and reaped). Give them a bounded while before calling them
    # left behind.
    deadline = time.monotonic() + 5
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.05)
        leftovers = session_processes(p.pid)
    if leftovers:
        kill_session(p)
        pytest.fail(f"{impl}/{pool}: processes left behind by the scenario: {leftovers}")
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def session_processes(sid):
    """Processes still in session sid (the scenario's), as 'pid state' strings."""
    r = subprocess.run(["ps", "-o", "pid=,stat=", "-s", str(sid)], capture_output=True, text=True)
    return [line.strip() for line in r.stdout.splitlines() if line.strip()]


def differential(path, pool="thread", **kw):
    """Runs the scenario on both implementations; returns {impl: result}."""
    return {impl: run(path, impl, pool, **kw) for impl in IMPLS}


def norm_stderr(text):
    """stderr made comparable across implementations: addresses replaced,
    and traceback frames inside the library itself dropped (the stdlib has
    Python frames where gofutures runs C)."""
    out, skipping = [], False
    for line in re.sub(r"0x[0-9a-f]+", "0xADDR", text).splitlines():
        if line.startswith('  File "'):
            skipping = "/concurrent/futures/" in line or "/gofutures/" in line
            if skipping:
                continue
        elif skipping and line.startswith("    "):
            continue
        else:
            skipping = False
        out.append(line)
    return "\n".join(out)


def same_outcome(got):
    """Asserts that both implementations exited alike: status, stdout and
    (normalized) stderr."""
    std, gof = got["stdlib"], got["gofutures"]
    assert (gof.returncode, gof.stdout, norm_stderr(gof.stderr)) == \
        (std.returncode, std.stdout, norm_stderr(std.stderr))


def assert_clean(r, what=""):
    """No traceback, no fatal error, no death by signal."""
    assert r.returncode >= 0, f"{what}: died of signal {-r.returncode}\n{r.stderr}"
    assert "Traceback" not in r.stderr, f"{what}: traceback\n{r.stderr}"
    assert "Fatal Python error" not in r.stderr, r.stderr


class Interactive:
    """A scenario that talks to the test over its stdout, line by line, so the
    test can act (send a signal) at a point the script announced."""

    def __init__(self, path, impl, pool="thread", env=None):
        self.p = subprocess.Popen([sys.executable, path], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env_for(impl, pool, env),
                                  start_new_session=True)
        self.fd = self.p.stdout.fileno()
        self.buf = b""
        self.lines = []

    def expect(self, word, bound=SCRIPT_TIMEOUT):
        """Reads lines until one equals word; fails after bound seconds."""
        deadline = time.monotonic() + bound
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                line = line.decode()
                self.lines.append(line)
                if line == word:
                    return
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                self.fail(f"no {word!r} within {bound}s")
            chunk = os.read(self.fd, 65536)
            if not chunk:
                self.fail(f"stdout closed before {word!r}")
            self.buf += chunk

    def finish(self, bound=SCRIPT_TIMEOUT):
        """Waits for the exit; returns (returncode, stdout lines, stderr)."""
        try:
            out, err = self.p.communicate(timeout=bound)
        except subprocess.TimeoutExpired:
            self.fail(f"did not exit within {bound}s")
        self.lines += (self.buf + out).decode().splitlines()
        self.buf = b""
        return self.p.returncode, self.lines, err.decode()

    def fail(self, msg):
        kill_session(self.p)
        out, err = self.p.communicate()
        pytest.fail(f"{msg}\nstdout so far: {self.lines} {self.buf + out!r}\nstderr:\n{err.decode()}")
