"""The implementations the benchmark suite compares, as plain namespaces.

stdlib and gofutures expose the whole API; loky only a ProcessPoolExecutor
(its third column in the process workloads). An attribute that is None means
"this implementation does not have it": the workload shows n/a for it.
"""
import concurrent.futures as cf
import types


def stdlib():
    return types.SimpleNamespace(
        name="stdlib", version=None,
        Future=cf.Future, wait=cf.wait, as_completed=cf.as_completed,
        ThreadPoolExecutor=cf.ThreadPoolExecutor,
        ProcessPoolExecutor=cf.ProcessPoolExecutor)


def gofutures():
    import gofutures as gf
    return types.SimpleNamespace(
        name="gofutures", version=gf.__version__,
        Future=gf.Future, wait=gf.wait, as_completed=gf.as_completed,
        ThreadPoolExecutor=gf.ThreadPoolExecutor,
        # The process pool is optional: absent, its column says n/a.
        ProcessPoolExecutor=getattr(gf, "ProcessPoolExecutor", None))


def loky():
    """None when loky is not installed (pip install 'gofutures[bench]')."""
    try:
        import loky as lk
    except ImportError:
        return None
    return types.SimpleNamespace(
        name="loky", version=lk.__version__,
        Future=None, wait=None, as_completed=None, ThreadPoolExecutor=None,
        ProcessPoolExecutor=lk.ProcessPoolExecutor)


def gofutures_task_timeout():
    """gofutures' process pool with a pool-wide per-task timeout (one that
    never fires): the column that prices the timeout's bookkeeping."""
    import functools
    gf = gofutures()
    pool = gf.ProcessPoolExecutor
    return types.SimpleNamespace(**dict(
        vars(gf), name="gofutures+task_timeout",
        ProcessPoolExecutor=pool and functools.partial(pool, task_timeout=3600.0)))


def gofutures_max_pending():
    """gofutures' thread pool with backpressure whose bound is never reached
    (max_pending=10**9): the column that prices the gate's bookkeeping."""
    import functools
    gf = gofutures()
    return types.SimpleNamespace(**dict(
        vars(gf), name="gofutures+max_pending",
        ThreadPoolExecutor=functools.partial(gf.ThreadPoolExecutor, max_pending=10**9)))


_ALL = {"stdlib": stdlib, "gofutures": gofutures, "loky": loky,
        "gofutures+task_timeout": gofutures_task_timeout,
        "gofutures+max_pending": gofutures_max_pending}


def by_name(name):
    return _ALL[name]()
