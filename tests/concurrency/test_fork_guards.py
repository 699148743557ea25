"""Issue 14, point 5: in a child forked after the Go engine was loaded, the
statistics paths (ThreadPool.stats_id, executor.stats(), gofutures.stats(),
the gopy module's functions and its wrappers' __del__ -> DecRef) never
enter Go, which may hang there (cshim/fork.h, python/gofutures/_fork.py).

Decision: statistics cannot be read in such a child. Pools made before the
fork refuse with fork.h's RuntimeError, like every other use of them;
gofutures.stats() and a pool made in the child (the stdlib's, which counts
nothing) raise RuntimeError too (gofutures._stats.FORKED_MSG). Dropping a
gopy wrapper made before the fork does nothing in Go.

Each case forks in a subprocess; the child reports its outcome through a
pipe and the parent gives up on it (a hang) after a bounded time.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

SCRIPT = textwrap.dedent(r"""
    import ctypes, json, os, select, signal, sys
    import gofutures
    from gofutures import _ext, _stats
    from gofutures._gopy import statsapi

    case = sys.argv[1]
    ex = gofutures.ThreadPoolExecutor(2)
    ex.submit(int).result()
    ex.stats(); gofutures.stats()
    # gopy wrappers alive across the fork: their __del__ calls DecRef.
    keep = [statsapi.Read(0) for _ in range(50)] + [statsapi.LivePools()]
    # Go's handle count, read without the module's guard (diagnostic only:
    # a short call that does not allocate, safe enough in the child).
    num_handles = ctypes.PyDLL(_ext.load().__file__).NumHandles
    num_handles.restype = ctypes.c_longlong

    def run_case():
        if case == "pool_stats_id":
            return ex._core.stats_id()
        if case == "executor_stats":
            return ex.stats()
        if case == "gofutures_stats":
            for _ in range(200000):   # enough Go allocation to need its GC
                gofutures.stats()
            return "no error"
        if case == "child_pool_stats":
            with gofutures.ThreadPoolExecutor(1) as child_ex:
                assert child_ex.submit(pow, 2, 5).result() == 32   # the stdlib's pool works
                return child_ex.stats()
        if case == "gopy_call":
            return statsapi.Read(0)
        if case == "gopy_del":
            before = num_handles()
            del keep[:]
            return "handles %d -> %d" % (before, num_handles())
        raise AssertionError(case)

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            out = {"ok": repr(run_case())}
        except BaseException as e:
            out = {"error": type(e).__name__, "message": str(e)}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    ready, _, _ = select.select([r], [], [], 30)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print(json.dumps({"hang": True}))
        sys.exit(0)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    _, status = os.waitpid(pid, 0)
    res = json.loads(data)
    res["status"] = status
    print(json.dumps(res))
""")

FORK_H_MSG = "this gofutures object was created before os.fork()"
STATS_MSG = "gofutures statistics are not available in a process forked after the Go engine was loaded"
GOPY_MSG = "gofutures statistics cannot be read in a process forked after the Go engine was loaded"


def run(case):
    p = subprocess.run([sys.executable, "-c", SCRIPT, case], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout.strip().splitlines()[-1])
    assert not res.get("hang"), "the forked child hung in %s" % case
    assert res["status"] == 0, res
    return res


@pytest.mark.parametrize("case, message", [
    ("pool_stats_id", FORK_H_MSG),
    ("executor_stats", FORK_H_MSG),
    ("gofutures_stats", STATS_MSG),
    ("child_pool_stats", STATS_MSG),
    ("gopy_call", GOPY_MSG),
])
def test_stats_in_forked_child_raise_without_go(case, message):
    res = run(case)
    assert res.get("error") == "RuntimeError", res
    assert res["message"].startswith(message), res


def test_gopy_wrapper_del_in_forked_child_skips_go():
    res = run("gopy_del")
    assert "ok" in res, res
    before, after = res["ok"].strip("'").split(" ", 1)[1].split(" -> ")
    assert before == after, "DecRef entered Go in the child: %s" % res["ok"]
