"""Memory per pending task: RSS growth while n tasks wait in a thread pool's
queue behind a blocked worker. Every sample is a fresh interpreter, so one
implementation's heap never carries over into the other's figure."""
import json
import os
import subprocess
import sys

from ._bench_run import Workload

_CHILD = "from gofutures._bench_memory import child; child(%r, %d)"


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(name, n):
    """Runs in the fresh interpreter: prints {"bytes": RSS growth, "sum": ...}."""
    import gc
    import threading

    from ._bench_impls import by_name
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


def _sample(impl, n):
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", _CHILD % (impl.name, n)], env=env,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    rec = json.loads(out.strip().splitlines()[-1])
    return rec["bytes"], rec["sum"]


def workloads():
    return [
        Workload("memory_pending", "RSS per pending task (thread pool)", "memory",
                 100_000, 20_000, _sample, lambda n: n * (n - 1) // 2,
                 kind="bytes", target=("ratio<=", 0.3),
                 note="fresh interpreter per sample; includes the caller's list of futures"),
    ]
