"""Pool statistics (gofutures.stats(), executor.stats()): exact counts for
scripted workloads, consistent snapshots, latency bounds, and the
gopy-generated module living in the one extension."""
import dataclasses
import gc
import glob
import os
import subprocess
import sys
import threading
import time

import pytest

import gofutures


def gated_pool(workers=1, **kw):
    """A pool whose workers are all held by gate tasks until release() is
    called: whatever is submitted meanwhile stays queued."""
    ex = gofutures.ThreadPoolExecutor(workers, **kw)
    started = threading.Semaphore(0)
    gate = threading.Event()

    def hold():
        started.release()
        gate.wait()

    gates = [ex.submit(hold) for _ in range(workers)]
    for _ in range(workers):
        assert started.acquire(timeout=30)
    return ex, gate, gates


def fail_if(i, bad):
    if i in bad:
        raise ValueError(i)
    return i


def counts(s):
    return dict(submitted=s.submitted, queued=s.queued, running=s.running, completed=s.completed,
                failed=s.failed, cancelled=s.cancelled)


def test_exact_counts_with_failures_and_cancellations():
    n, bad, cancel = 200, {3, 50, 51, 199}, set(range(100, 130))
    ex, gate, gates = gated_pool(1)
    fs = [ex.submit(fail_if, i, bad) for i in range(n)]
    for i in cancel:
        assert fs[i].cancel()
    s = ex.stats()
    # a task cancelled in the queue counts as cancelled once cancel() returns
    assert counts(s) == dict(submitted=n + 1, queued=n - len(cancel), running=1, completed=0, failed=0,
                             cancelled=len(cancel))
    gate.set()
    ex.shutdown(wait=True)
    s = ex.stats()
    assert counts(s) == dict(submitted=n + 1, queued=0, running=0, completed=n + 1 - len(bad) - len(cancel),
                             failed=len(bad), cancelled=len(cancel))
    assert (s.workers_started, s.workers_alive, s.workers_replaced, s.workers_died) == (1, 0, 0, 0)
    assert s.run.count == n + 1 - len(cancel)          # cancelled tasks never ran
    assert s.wait.count == n + 1 - len(cancel)         # ... nor were taken from the queue to run
    assert s.kind == "thread"


def test_shutdown_cancel_futures_counts_cancelled():
    ex, gate, gates = gated_pool(2)
    fs = [ex.submit(pow, 2, i) for i in range(37)]
    ex.shutdown(wait=False, cancel_futures=True)
    s = ex.stats()
    assert counts(s) == dict(submitted=39, queued=0, running=2, completed=0, failed=0, cancelled=37)
    gate.set()
    ex.shutdown(wait=True)
    assert all(f.cancelled() for f in fs)
    assert counts(ex.stats()) == dict(submitted=39, queued=0, running=0, completed=2, failed=0, cancelled=37)


def test_high_water_and_workers():
    ex, gate, gates = gated_pool(3, thread_name_prefix="hw-test")
    for i in range(50):
        ex.submit(pow, 2, i)
    s = ex.stats()
    assert s.queue_high_water == 50
    assert (s.workers_started, s.workers_alive, s.running, s.queued) == (3, 3, 3, 50)
    assert s.name == "hw-test"
    gate.set()
    ex.shutdown()
    s = ex.stats()
    assert (s.queue_high_water, s.workers_started, s.workers_alive, s.completed) == (50, 3, 0, 53)


def test_broken_pool_counts_failed():
    def bad_init():
        raise RuntimeError("init")
    ex = gofutures.ThreadPoolExecutor(1, initializer=bad_init)
    fs = []
    for i in range(20):
        try:
            fs.append(ex.submit(pow, 2, i))
        except gofutures.BrokenThreadPool:
            break
    gofutures.wait(fs, timeout=30)
    ex.shutdown()
    broken = sum(isinstance(f.exception(), gofutures.BrokenThreadPool) for f in fs)
    assert broken == len(fs)
    assert counts(ex.stats()) == dict(submitted=len(fs), queued=0, running=0, completed=0,
                                      failed=len(fs), cancelled=0)


def test_snapshots_consistent_while_running():
    ex = gofutures.ThreadPoolExecutor(4)
    stop = threading.Event()
    bad = []

    def reader():
        while not stop.is_set():
            for s in (ex.stats(), gofutures.stats()):
                total = s.completed + s.failed + s.cancelled + s.running + s.queued
                if total != s.submitted or min(s.queued, s.running, s.completed) < 0:
                    bad.append(s)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers:
        t.start()
    for round_ in range(20):
        fs = [ex.submit(fail_if, i, {0, 1}) for i in range(300)]
        for f in fs[-20:]:
            f.cancel()
        gofutures.wait(fs)
    stop.set()
    for t in readers:
        t.join()
    ex.shutdown()
    assert not bad, bad[:3]
    s = ex.stats()
    assert s.submitted == 20 * 300 and s.queued == 0 and s.running == 0
    assert s.completed + s.failed + s.cancelled == s.submitted
    assert s.failed >= 20 * 2 - s.cancelled      # the failing tasks are never among the cancelled tail


def test_percentiles_ordered_and_bounded_by_wall_time():
    t0 = time.perf_counter()
    with gofutures.ThreadPoolExecutor(4) as ex:
        fs = [ex.submit(time.sleep, 0.002 * (1 + i % 5)) for i in range(60)]
        gofutures.wait(fs)
    wall = time.perf_counter() - t0
    s = ex.stats()
    for lat in (s.wait, s.run):
        assert lat.count == 60
        assert 0 <= lat.p50 <= lat.p90 <= lat.p99 <= lat.max <= wall
        assert 0 <= lat.mean <= lat.max
    # every task slept at least 2 ms (and the longest 10 ms) while running
    assert s.run.p50 >= 0.002 and s.run.max >= 0.010


def test_global_totals_include_closed_pools():
    before = gofutures.stats()
    ex = gofutures.ThreadPoolExecutor(2)
    list(ex.map(fail_if, range(100), [()] * 100))
    ex.shutdown()
    del ex
    gc.collect()
    after = gofutures.stats()
    assert after.kind == "all"
    assert after.submitted - before.submitted == 100
    assert after.completed - before.completed == 100
    assert after.workers_started - before.workers_started == 2


def test_dataclasses_frozen_with_readable_repr():
    with gofutures.ThreadPoolExecutor(1, thread_name_prefix="repr-test") as ex:
        ex.submit(pow, 2, 2).result()
    s = ex.stats()
    assert isinstance(s, gofutures.PoolStats) and isinstance(s.run, gofutures.Latency)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.submitted = 0
    r = repr(s)
    assert r.startswith("<PoolStats thread 'repr-test': submitted=1 queued=0 running=0 completed=1")
    assert "p50=" in r and "p99=" in r
    assert repr(s.wait).startswith("Latency(count=1, p50=")


def run_py(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_stats_does_not_load_engine_until_called():
    r = run_py("import sys, gofutures\n"
               "assert gofutures.stats is not None\n"
               "assert 'gofutures._gofutures' not in sys.modules\n"
               "s = gofutures.stats()\n"
               "assert s.submitted == 0 and s.kind == 'all', s\n"
               "print(sys.modules['gofutures._gopy._statsapi'].__file__ == sys.modules['gofutures._gofutures'].__file__)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"


def test_gopy_module_is_in_the_one_extension():
    import gofutures._gopy as gp
    ext = sys.modules["gofutures._gofutures"]
    assert gp._statsapi.__file__ == ext.__file__
    pkg = os.path.dirname(gofutures.__file__)
    assert [os.path.basename(p) for p in glob.glob(os.path.join(pkg, "**", "*.so"), recursive=True)] == \
        [os.path.basename(ext.__file__)]
    with open("/proc/self/maps") as f:
        mapped = {line.split()[-1] for line in f if ".so" in line and "gofutures" in line}
    assert mapped == {os.path.realpath(ext.__file__)}
    # gopy's handle table is left empty by our reads (each snapshot's handle is released)
    n0 = gp._statsapi.NumHandles()
    for _ in range(10):
        gofutures.stats()
    gc.collect()
    assert gp._statsapi.NumHandles() == n0


def test_top_prints_table_of_demo_pools():
    r = subprocess.run([sys.executable, "-m", "gofutures", "top", "--duration", "1", "--once"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["pool", "kind", "submit", "queue"]
    names = [ln.split()[1] for ln in lines[1:4]]
    assert names == ["cpu-bursts", "sleepy-io", "flaky"]
    assert lines[4].split()[:2] == ["total", "all"]
    # the flaky pool fails and cancels some of its tasks
    flaky = lines[3].split()
    assert int(flaky[7]) > 0 and int(flaky[8]) > 0


def test_checked_in_gopy_bindings_match_the_go_api():
    """A tool-free guard for the generated bindings (the full check, which
    regenerates with the pinned gopy, is `python3 pybind/gopy/regen.py
    --check`): every exported function and Snapshot field of
    core/stats/statsapi has its generated wrapper, and nothing else does."""
    import re
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    src = os.path.join(root, "core", "stats", "statsapi", "statsapi.go")
    if not os.path.exists(src):
        pytest.skip("not run from a source checkout")
    go = open(src).read()
    funcs = set(re.findall(r"^func ([A-Z]\w*)\(", go, re.M))
    body = re.search(r"type Snapshot struct \{(.*?)\n\}", go, re.S).group(1)
    fields = set(re.findall(r"^\t([A-Z]\w*)\s", body, re.M))
    glue = open(os.path.join(root, "pybind", "gopy_statsapi.go")).read()
    assert set(re.findall(r"^//export statsapi_([A-Z][a-zA-Z]*)$", glue, re.M)) == funcs
    assert set(re.findall(r"^//export statsapi_Snapshot_(\w+)_Get$", glue, re.M)) == fields
    from gofutures._gopy import statsapi
    assert funcs <= set(dir(statsapi)) and fields <= set(dir(statsapi.Snapshot))
