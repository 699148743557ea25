"""Checks that the DaskExecutor and RayExecutor tests both make, written
once: each test module calls them with an executor (or a child script) of
its own backend and keeps its backend's own asserts next to the call."""
import concurrent.futures as cf
import signal
import subprocess
import sys

import pytest

import gofutures

import cluster_tasks as T
from cluster_tasks import WORK, drain, outcome


def check_import_does_not_import(*modules):
    """`import gofutures` (and reading one of its names) in a fresh
    interpreter imports none of these modules."""
    code = ("import sys, gofutures; gofutures.wait; assert %s; print('ok')"
            % " and ".join("%r not in sys.modules" % m for m in modules))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def check_against_process_pool(ex):
    """The same calls on a ProcessPoolExecutor and on ex: the same results
    and exceptions, from submit and from map (with chunksize/buffersize)."""
    with cf.ProcessPoolExecutor(2) as ppe:
        ref = [outcome(ppe.submit(fn, *a)) for fn, a in WORK]
        got = [outcome(ex.submit(fn, *a)) for fn, a in WORK]
        assert got == ref
        for kw in ({}, {"chunksize": 3}, {"buffersize": 4}, {"chunksize": 2, "buffersize": 2}):
            xs = list(range(20))
            cs = kw.get("chunksize", 1)
            assert list(ex.map(T.square, xs, **kw)) == list(ppe.map(T.square, xs, chunksize=cs)), kw
            ref = drain(ppe.map(T.maybe_fail, xs, chunksize=cs))
            got = drain(ex.map(T.maybe_fail, xs, **kw))
            assert got == ref and got[-1] == (ValueError, (3,)), kw
    with pytest.raises(ValueError):
        ex.map(T.square, [1], chunksize=0)


def check_mixed_wait(ex, tpe, n, blocked, release):
    """gofutures.wait/as_completed and the stdlib's wait over n futures of
    ex and n of a local pool tpe; then FIRST_COMPLETED with one of ex's
    futures blocked (blocked(): submits it; release(): lets it end)."""
    fs = [ex.submit(T.square, i) for i in range(n)] + [tpe.submit(T.square, i) for i in range(n)]
    done, not_done = gofutures.wait(fs, timeout=60)
    assert len(done) == 2 * n and not not_done
    assert sorted(f.result() for f in gofutures.as_completed(fs, timeout=60)) == sorted(2 * [i * i for i in range(n)])
    assert len(cf.wait(fs, timeout=60).done) == 2 * n
    slow, fast = blocked(), tpe.submit(T.square, 2)
    done, not_done = gofutures.wait([slow, fast], return_when=gofutures.FIRST_COMPLETED, timeout=60)
    assert done == {fast} and not_done == {slow}
    release()
    assert next(gofutures.as_completed([slow], timeout=60)) is slow


def block_until_interrupted(submit_blocked):
    """In a SIGINT child (below): result(), then as_completed(), on a task
    that does not end (submit_blocked(): submits it), each until the
    test's SIGINT. Returns the two futures."""
    fs = []
    for how in ("result", "as_completed"):
        f = submit_blocked()
        fs.append(f)
        try:
            print("blocking", how, flush=True)
            if how == "result":
                f.result()
            else:
                next(gofutures.as_completed([f]))
        except KeyboardInterrupt:
            print("interrupted", how, flush=True)
    return fs


def check_ctrl_c_interrupts(child, *argv):
    """Runs child (python -c child *argv, which calls block_until_interrupted
    and then prints "usable 49" from a square(7) on its executor): a SIGINT
    ends each blocking call with KeyboardInterrupt, and the executor is
    usable after."""
    p = subprocess.Popen([sys.executable, "-c", child, *argv],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for how in ("result", "as_completed"):
            assert p.stdout.readline().split() == ["blocking", how]
            p.send_signal(signal.SIGINT)
            assert p.stdout.readline().split() == ["interrupted", how]
        assert p.stdout.readline().split() == ["usable", "49"]
        assert p.wait(60) == 0, p.stderr.read()
    finally:
        p.kill()
        p.wait()
