"""Helpers of the concurrency tier: a scenario is a script run in its own
interpreter (a crash or a hang then fails one test, not the suite), once on
the stdlib's concurrent.futures and once on gofutures. The script prints
what it observed as one JSON line; the test asserts both runs exited 0 and
compares what they printed.

PRELUDE binds `cf` to the implementation under test and gives the
scenarios their tools: outcome() records a call as a comparable value,
Hooked is a stdlib Future whose _waiters list runs a hook when a waiter is
appended or removed (code that runs inside as_completed's next(), at known
points, in both implementations), block_task blocks in any process until
release().
"""
import json
import os
import subprocess
import sys

from scenario_script import BLOCK_TASK, run_in_session, write_script

IMPLS = ["stdlib", "gofutures"]

# A run that outlives this is a hang (reported as a failure, never used as
# a timing claim).
SCRIPT_TIMEOUT = 40

PRELUDE = """\
import json, os, sys, threading, time
import concurrent.futures as std
if os.environ["CONC_IMPL"] == "stdlib":
    import concurrent.futures as cf
else:
    import gofutures as cf

NAMES = {}   # future -> label, so that outcomes compare across runs

def name(f, label):
    NAMES[f] = label
    return f

def outcome(fn, *args):
    try:
        r = fn(*args)
    except BaseException as e:
        return ["raise", type(e).__name__, str(e)]
    return ["ok", NAMES.get(r, repr(r)) if r is None or isinstance(r, std.Future) else repr(r)]

class HookList(list):
    \"\"\"A _waiters list that calls hooks["append"] / hooks["remove"] (once
    each) before doing its job.\"\"\"
    def __init__(self, hooks):
        super().__init__()
        self.hooks = hooks
    def append(self, w):
        h = self.hooks.pop("append", None)
        if h:
            h()
        super().append(w)
    def remove(self, w):
        h = self.hooks.pop("remove", None)
        if h:
            h()
        super().remove(w)

class Hooked(std.Future):
    def __init__(self, **hooks):
        super().__init__()
        self._waiters = HookList(hooks)

def pool(kind):
    return (cf.ProcessPoolExecutor if kind == "process" else cf.ThreadPoolExecutor)(2)

def report(**kw):
    print(json.dumps(kw, sort_keys=True))

""" + BLOCK_TASK


def script(tmp_path, body, name="scenario.py"):
    """Writes PRELUDE + body to a file; returns its path."""
    return write_script(tmp_path, PRELUDE, body, name)


def run(path, impl, *args, timeout=SCRIPT_TIMEOUT):
    """Runs the scenario in a new session; fails the test if it hangs.
    Returns the CompletedProcess."""
    env = dict(os.environ, CONC_IMPL=impl, PYTHONFAULTHANDLER="1")
    cmd = [sys.executable, path, *map(str, args)]
    p, out, err = run_in_session(cmd, env, timeout, f"{impl} {args}")
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def observed(path, impl, *args, **kw):
    """Runs the scenario, asserts it exited 0, returns its JSON report."""
    r = run(path, impl, *args, **kw)
    assert r.returncode == 0, f"{impl} {args}: exit status {r.returncode}\n{r.stdout}\n{r.stderr[-3000:]}"
    return json.loads(r.stdout.strip().splitlines()[-1])


def differential(path, *args, **kw):
    """The scenario's report on both implementations, asserted equal."""
    got = {impl: observed(path, impl, *args, **kw) for impl in IMPLS}
    assert got["gofutures"] == got["stdlib"]
    return got["stdlib"]
