"""What the scenario helpers of the robustness and concurrency tiers (and
the scenario tests that run a script of their own) share: a script is run
in its own interpreter and session, so a crash or a hang fails one test and
leaves no process behind."""
import os
import signal
import subprocess
import textwrap

import pytest

# Prelude text (after `import os, time`): block_task() blocks in any process
# (a thread, a forked or a spawned worker) until release(), which is a file
# next to the script that every process sees. block_task is a module-level
# function, so a spawned worker (which re-imports the script as __mp_main__)
# unpickles it.
BLOCK_TASK = """\
_RELEASE = os.path.abspath(__file__) + ".release"
if __name__ == "__main__" and os.path.exists(_RELEASE):
    os.unlink(_RELEASE)

def release():
    \"\"\"Lets every block_task (in any process) return.\"\"\"
    open(_RELEASE, "w").close()

def block_task(x=None):
    \"\"\"Blocks until release() (at most 30 s), then returns x.\"\"\"
    deadline = time.monotonic() + 30
    while not os.path.exists(_RELEASE) and time.monotonic() < deadline:
        time.sleep(0.005)
    return x
"""


def write_script(tmp_path, prelude, body, name="scenario.py"):
    """Writes prelude + body (dedented) to tmp_path/name; returns its path."""
    path = tmp_path / name
    path.write_text(prelude + textwrap.dedent(body))
    return str(path)


def run_in_session(cmd, env, timeout, what):
    """Runs cmd in a new session with its output captured. A run that
    outlives timeout is a hang (never a timing claim): its whole session is
    killed and the test fails, saying what and showing the output. Returns
    (the finished Popen, stdout, stderr)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_session(p)
        out, err = p.communicate()
        pytest.fail(f"{what}: scenario hung (> {timeout}s)\nstdout:\n{out}\nstderr:\n{err[-3000:]}")
    return p, out, err


def kill_session(p):
    """SIGKILL to every process of p's session (p was started in a new one)."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass
