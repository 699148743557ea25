"""Leaks: memory stays bounded over a million tasks, done futures are freed
once dropped, and no Go handle or goroutine outlives the objects that
owned it."""
import gc
import textwrap
import threading
import time
import weakref

import pytest

import gofutures
from _scenarios import POOL_KINDS, run, script
from conftest import GOFUTURES, STDLIB

pytestmark = pytest.mark.timeout(120, method="thread")

RSS = """
import gc
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def batch(ex, n, how):
    if how == "submit":
        fs = [ex.submit(abs, -i) for i in range(n)]
        cf.wait(fs)
        assert sum(f.result() for f in fs) == n * (n - 1) // 2
    elif how == "as_completed":
        fs = [ex.submit(abs, -i) for i in range(n)]
        assert sum(f.result() for f in cf.as_completed(fs)) == n * (n - 1) // 2
    else:
        assert sum(ex.map(abs, range(n))) == n * (n - 1) // 2

if __name__ == "__main__":
    total, chunk = int(sys.argv[1]), 10000
    ex = Pool(max_workers=4)
    for how in ("submit", "as_completed", "map"):   # warm-up: reach the steady state
        for _ in range(3):
            batch(ex, chunk, how)
    gc.collect()
    before = rss()
    for i in range(total // chunk):
        batch(ex, chunk, ("submit", "as_completed", "map")[i % 3])
    gc.collect()
    after = rss()
    ex.shutdown()
    print("growth_mb", (after - before) / 2 ** 20)
"""

TASKS = 1_000_000          # enough that a per-task leak of tens of bytes passes the limit
GROWTH_LIMIT_MB = 32       # generous: a leak of ~50 bytes per task would exceed it


@pytest.mark.parametrize("pool", POOL_KINDS)
def test_rss_bounded_over_a_million_tasks(tmp_path, pool):
    r = run(script(tmp_path, RSS), "gofutures", pool, args=(str(TASKS),), timeout=100)
    assert r.returncode == 0, r.stderr
    growth = float(r.stdout.split()[-1])
    assert growth < GROWTH_LIMIT_MB, r.stdout


# ---- done futures are freed ------------------------------------------------------------

def dropped_futures(impl, how):
    """Weak references to futures that went through `how` and were dropped."""
    refs = []
    with impl.ThreadPoolExecutor(2) as ex:
        if how == "result":
            for i in range(50):
                f = ex.submit(abs, -i)
                f.result()
                refs.append(weakref.ref(f))
                del f
        elif how == "wait":
            fs = [ex.submit(abs, -i) for i in range(50)]
            impl.wait(fs)
            refs = [weakref.ref(f) for f in fs]
            del fs
        elif how == "as_completed":
            fs = [ex.submit(abs, -i) for i in range(50)]
            refs = [weakref.ref(f) for f in fs]
            for f in impl.as_completed(fs):
                pass
            del fs, f
        elif how == "map_iterator":
            fs_seen = []
            orig = ex.submit
            ex.submit = lambda *a: fs_seen.append(orig(*a)) or fs_seen[-1]
            it = ex.map(abs, range(50))
            refs = [weakref.ref(f) for f in fs_seen]
            del fs_seen, orig
            del ex.submit
            assert sum(it) == 1225
            del it
        elif how == "callback_cycle":
            for i in range(50):
                f = ex.submit(abs, -i)
                f.add_done_callback(lambda g, keep=[f]: keep)   # f -> callback -> f (until run)
                f.self = f                                       # a cycle through __dict__
                f.result()
                refs.append(weakref.ref(f))
                del f
        elif how == "exception_traceback":
            def fail():
                raise ValueError("x")
            for i in range(20):
                f = ex.submit(fail)
                f.exception()   # the traceback's frames reference... not f
                refs.append(weakref.ref(f))
                del f
        elif how == "cancelled":
            gate = threading.Event()
            ex2 = impl.ThreadPoolExecutor(1)
            ex2.submit(gate.wait, 10)
            fs = [ex2.submit(abs, i) for i in range(20)]
            for f in fs:
                f.cancel()
            refs = [weakref.ref(f) for f in fs]
            del fs, f
            gate.set()
            ex2.shutdown()
            del ex2
    gc.collect()
    return sum(r() is not None for r in refs), len(refs)


@pytest.mark.parametrize("how", ["result", "wait", "as_completed", "map_iterator",
                                 "callback_cycle", "exception_traceback", "cancelled"])
def test_done_futures_are_freed_when_dropped(how):
    std = dropped_futures(STDLIB, how)
    gof = dropped_futures(GOFUTURES, how)
    assert gof == std
    assert gof[0] == 0 and gof[1] > 0


def test_dropped_executor_is_freed_and_its_workers_exit():
    def make():
        ex = gofutures.ThreadPoolExecutor(3)
        list(ex.map(abs, range(10)))
        return weakref.ref(ex), set(ex._threads)
    ref, threads = make()
    gc.collect()
    assert ref() is None
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive()


# ---- Go handles and goroutines ---------------------------------------------------------

def go_counts():
    return gofutures._ext.load().debug_counts()


def settle(baseline, bound=30):
    """Waits (bounded) until the live handles and goroutines are back to
    baseline; returns the last counts."""
    deadline = time.monotonic() + bound
    while True:
        gc.collect()
        c = go_counts()
        if (c["handles"] <= baseline["handles"] and c["goroutines"] <= baseline["goroutines"]) \
                or time.monotonic() > deadline:
            return c
        time.sleep(0.05)


def exercise():
    gate = threading.Event()
    with gofutures.ThreadPoolExecutor(4) as ex:
        fs = [ex.submit(abs, -i) for i in range(200)]
        gofutures.wait(fs)
        gofutures.wait(fs + [ex.submit(gate.wait, 10)], timeout=0.01)
        gofutures.wait(fs, return_when=gofutures.FIRST_COMPLETED)
        list(gofutures.as_completed(fs))
        it = gofutures.as_completed([ex.submit(gate.wait, 10)], timeout=0.01)
        with pytest.raises(gofutures.TimeoutError):
            next(it)
        del it
        mixed = [STDLIB.Future(), ex.submit(abs, 1)]
        gofutures.wait(mixed, timeout=0.01)
        assert sum(ex.map(abs, range(100))) == 4950
        m = ex.map(gate.wait, [10] * 3)   # dropped before it is consumed
        del m
        f = gofutures.Future()
        f.add_done_callback(lambda f: None)
        f.set_result(1)
        gate.set()
    ex2 = gofutures.ThreadPoolExecutor(2)   # dropped without shutdown()
    ex2.submit(abs, 1).result()
    del ex2
    ex3 = gofutures.ThreadPoolExecutor(2)
    ex3.submit(abs, 1)
    ex3.shutdown(wait=True, cancel_futures=True)


def test_no_go_handles_or_goroutines_left_after_shutdown():
    gc.collect()
    exercise()   # warm-up: the Go runtime's own goroutines (timers, GC) exist from now on
    baseline = settle(go_counts(), bound=1)
    for _ in range(3):
        exercise()
    after = settle(baseline)
    assert after["handles"] <= baseline["handles"], (baseline, after)
    assert after["goroutines"] <= baseline["goroutines"], (baseline, after)


def test_handles_are_live_while_objects_are():
    """The counter is real: a live Future and a live pool hold handles."""
    gc.collect()
    base = go_counts()["handles"]
    f = gofutures.Future()
    ex = gofutures.ThreadPoolExecutor(1)
    ex.submit(abs, 1).result()
    assert go_counts()["handles"] >= base + 3   # future, pool, one worker
    ex.shutdown()
    del f, ex
    assert settle({"handles": base, "goroutines": 10 ** 9})["handles"] <= base
