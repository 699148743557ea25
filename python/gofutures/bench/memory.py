"""Memory workloads. Every sample is a fresh interpreter, so one
implementation's heap never carries over into the other's figure.

memory_pending: RSS growth while n tasks wait in a thread pool's queue
behind a blocked worker.
map_buffersize_rss: peak RSS growth over map(abs, range(n)) on a thread
pool: the stdlib's map (every call submitted up front) against gofutures'
map(..., buffersize=64) (Python 3.14's, gh-74028)."""
import json
import os
import subprocess
import sys

from .runner import Workload

_CHILD = "from gofutures.bench.memory import %s; %s(%r, %d)"
BUFFERSIZE = 64


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(name, n):
    """Runs in the fresh interpreter: prints {"bytes": RSS growth, "sum": ...}."""
    import gc
    import threading

    from .impls import by_name
    impl = by_name(name)
    started, release = threading.Event(), threading.Event()

    def block():
        started.set()
        release.wait()
        return 0
    ex = impl.ThreadPoolExecutor(1)
    blocker = ex.submit(block)
    started.wait()
    gc.collect()
    before = _rss()
    fs = [ex.submit(abs, i) for i in range(n)]   # all pending behind block()
    gc.collect()
    grown = _rss() - before
    release.set()
    total = blocker.result() + sum(f.result() for f in fs)
    ex.shutdown()
    print(json.dumps({"bytes": grown, "sum": total}))


def child_map(name, n):
    """Runs in the fresh interpreter: prints {"bytes": peak RSS growth, "sum":
    ...}. RSS is read right after map() returns (the stdlib's has submitted
    everything by then) and every 1024 results while they are consumed."""
    import gc

    from .impls import by_name
    impl = by_name(name)
    ex = impl.ThreadPoolExecutor(2)
    list(ex.map(abs, range(1000)))         # warm
    gc.collect()
    before = peak = _rss()
    kw = {} if name == "stdlib" else {"buffersize": BUFFERSIZE}
    it = ex.map(abs, range(n), **kw)
    peak = max(peak, _rss())
    total = 0
    for i, r in enumerate(it):
        total += r
        if not i & 1023:
            peak = max(peak, _rss())
    ex.shutdown()
    print(json.dumps({"bytes": peak - before, "sum": total}))


def _sampler(fn):
    def sample(impl, n):
        pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
        out = subprocess.run([sys.executable, "-c", _CHILD % (fn, fn, impl.name, n)], env=env,
                             capture_output=True, text=True, timeout=300, check=True).stdout
        rec = json.loads(out.strip().splitlines()[-1])
        return rec["bytes"], rec["sum"]
    return sample


def workloads():
    return [
        Workload("memory_pending", "RSS per pending task (thread pool)", "memory",
                 100_000, 20_000, _sampler("child"), lambda n: n * (n - 1) // 2,
                 kind="bytes", target=("ratio<=", 0.3),
                 note="fresh interpreter per sample; includes the caller's list of futures"),
        Workload("map_buffersize_rss", "peak RSS of map over 1M items, stdlib map vs "
                 "map(buffersize=%d)" % BUFFERSIZE, "memory",
                 1_000_000, 20_000, _sampler("child_map"), lambda n: n * (n - 1) // 2,
                 kind="bytes", per="item",
                 note="fresh interpreter per sample; thread pool, 2 workers; the stdlib "
                      "(before 3.14) has no buffersize, so its map submits every call up "
                      "front: what a user of an endless or huge input has today"),
    ]
