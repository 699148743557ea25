"""Issue 14, point 9: no task waits on a worker that is still starting while
another worker could run it (spawn start method).

The stdlib's workers take their tasks from one queue once they are ready,
in submission order. gofutures hands tasks to a worker over its own pipe:
it used to write them to a worker as soon as the process was started, so
with a slow-starting worker those tasks waited there while the other
worker ran ahead; a crash at task 50 then failed tasks 0-49 that the
stdlib had completed.

Deterministic setup (no timing): two spawn workers, and the initializer of
the first to start blocks until the parent releases it (after the crash).
So every task runs on the other worker, in order, and when task 50 crashes
the results of 0-49 are all in the result pipe: the stdlib's manager reads
ready results before it looks at worker deaths, so it completes all of
0-49 and fails 50-99. gofutures must give exactly the same outcome.
"""
import os
import sys
import textwrap

import pytest
from scenario_script import run_in_session

pytestmark = pytest.mark.timeout(300)

BOUND = 120

SCENARIO = """
import multiprocessing as mp, os, sys, time
if sys.argv[1] == "stdlib":
    import concurrent.futures as cf
else:
    import gofutures as cf
from concurrent.futures.process import BrokenProcessPool

DIR = os.path.dirname(os.path.abspath(__file__))
SLOW = os.path.join(DIR, "slow")        # made by the one slow worker
RELEASE = os.path.join(DIR, "release")  # made by the parent after the crash

def wait_for(path, bound=90):
    # Polls a file: the processes share nothing else (spawn).
    deadline = time.monotonic() + bound
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.005)

def init():
    try:
        os.close(os.open(SLOW, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return          # the other worker: ready at once
    wait_for(RELEASE)   # the slow one: starting until the parent releases it

def task(i):
    if i == 0:
        wait_for(SLOW)  # both workers exist (and one is starting) before anything completes
    if i == CRASH:
        os._exit(3)
    return i

CRASH = 50 if sys.argv[2] == "submit" else 500   # (spawn children get the parent's argv)

def outcome(f):
    try:
        return "ok %d" % f.result()
    except BaseException as e:
        return type(e).__name__

if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    ex = cf.ProcessPoolExecutor(2, mp_context=ctx, initializer=init)
    if sys.argv[2] == "submit":
        fs = [ex.submit(task, i) for i in range(100)]
        cf.wait(fs, timeout=HANG_BOUND)
        print(" ".join(outcome(f).replace(" ", ":") for f in fs), flush=True)
    else:   # a map with chunks of 10: results yielded before the crash
        n = 0
        try:
            for _ in ex.map(task, range(1000), chunksize=10, timeout=HANG_BOUND):
                n += 1
        except BaseException as e:
            print(n, type(e).__name__, flush=True)
        else:
            print(n, "no exception", flush=True)
    open(RELEASE, "w").close()
    ex.shutdown()
"""


def run(tmp_path, impl, mode):
    d = tmp_path / impl
    d.mkdir()
    path = d / "scenario.py"
    path.write_text(textwrap.dedent(SCENARIO.replace("HANG_BOUND", str(BOUND - 30))))
    env = dict(os.environ)
    env.pop("PYTHONDEVMODE", None)
    p, out, err = run_in_session([sys.executable, str(path), impl, mode], env, BOUND,
                                 "%s %s" % (impl, mode))
    assert p.returncode == 0, (impl, mode, out, err)
    return out.strip()


def test_submits_before_a_crash_complete_as_on_the_stdlib(tmp_path):
    want = " ".join(["ok:%d" % i for i in range(50)] + ["BrokenProcessPool"] * 50)
    assert run(tmp_path, "stdlib", "submit") == want   # the rule, as the stdlib keeps it
    assert run(tmp_path, "gofutures", "submit") == want


def test_map_yields_the_chunks_before_a_crash_as_on_the_stdlib(tmp_path):
    # 1000 items in chunks of 10, item 500 crashes (chunk 50): the 500 items
    # of chunks 0-49 come out first (the issue saw 0 on gofutures).
    assert run(tmp_path, "stdlib", "map") == "500 BrokenProcessPool"
    assert run(tmp_path, "gofutures", "map") == "500 BrokenProcessPool"
