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


def _gofutures_with(pool, option, value):
    """gofutures with one executor option set to a value whose bound is never
    reached: the column that prices that option's bookkeeping."""
    import functools
    gf = gofutures()
    cls = getattr(gf, pool)
    return types.SimpleNamespace(**dict(
        vars(gf), name="gofutures+" + option,
        **{pool: cls and functools.partial(cls, **{option: value})}))


def _gofutures_priority():
    """gofutures whose thread pools the priority row drives through
    submit_with_priority (_bench_thread._submit_priority reads the mark)."""
    gf = gofutures()

    def pool(*args, **kwargs):
        ex = gf.ThreadPoolExecutor(*args, **kwargs)
        ex.bench_priority = True
        return ex
    return types.SimpleNamespace(**dict(vars(gf), name="gofutures+priority",
                                        ThreadPoolExecutor=pool))


_ALL = {"stdlib": stdlib, "gofutures": gofutures, "loky": loky,
        # submit_with_priority with spread priorities (thread pools)
        "gofutures+priority": _gofutures_priority,
        # a per-task timeout that never fires (process pools)
        "gofutures+task_timeout": lambda: _gofutures_with("ProcessPoolExecutor",
                                                          "task_timeout", 3600.0),
        # a worker memory bound never reached (process pools)
        "gofutures+max_worker_memory": lambda: _gofutures_with("ProcessPoolExecutor",
                                                               "max_worker_memory", 1 << 50),
        # backpressure whose bound is never reached (thread pools)
        "gofutures+max_pending": lambda: _gofutures_with("ThreadPoolExecutor",
                                                         "max_pending", 10**9),
        # each task in a copy of its submitter's contextvars context (thread pools)
        "gofutures+context": lambda: _gofutures_with("ThreadPoolExecutor",
                                                     "context", "copy")}


def by_name(name):
    return _ALL[name]()
