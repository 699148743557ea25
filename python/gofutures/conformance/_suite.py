"""Finds the interpreter's test.test_concurrent_futures, points it at
gofutures and loads it, without touching the suite's files."""
import fnmatch
import importlib
import importlib.util
import unittest

SUITE = "test.test_concurrent_futures"

# Prepended to the code the suite runs in child interpreters (`python -c`,
# e.g. its interpreter-exit tests), so that they exercise gofutures too.
CHILD_PRELUDE = "import gofutures; gofutures.install()\n"

SELECTIONS = ("all", "threads", "processes")
FUTURES = ("stdlib", "gofutures")


def find():
    """The suite's module spec, or None when this installation lacks it
    (3.11/3.12 builds without the `test` package, or without the suite)."""
    try:
        return importlib.util.find_spec(SUITE)
    except ImportError:
        return None


def point_at_gofutures():
    """gofutures.install() in this process, and in the child interpreters
    the suite starts through test.support.script_helper. Must run before the
    suite is imported: its mixins read futures.ThreadPoolExecutor at import."""
    import gofutures
    gofutures.install()
    from test.support import script_helper
    run = script_helper.run_python_until_end
    if getattr(run, "gofutures_prelude", False):
        return

    def run_python_until_end(*args, **env_vars):
        args = list(args)
        if "-c" in args[:-1]:
            i = args.index("-c") + 1
            args[i] = CHILD_PRELUDE + args[i]
        return run(*args, **env_vars)

    run_python_until_end.gofutures_prelude = True
    script_helper.run_python_until_end = run_python_until_end


def key(test):
    """A test's id without its module path: Class.method. The same test has
    the same key on 3.9 (one module) and 3.13 (a package of modules)."""
    if isinstance(test, unittest.TestCase):
        return "%s.%s" % (type(test).__name__, test._testMethodName)
    return str(test)  # a fixture error: "setUpClass (module.Class)"


def class_name(test):
    if isinstance(test, unittest.TestCase):
        return type(test).__name__
    return "<fixtures>"


def uses_process_pool(test):
    # Every class the suite builds around ProcessPoolExecutor carries the
    # mixin's name: ProcessPoolForkWaitTest, ProcessPoolSpawnExecutorDeadlockTest...
    return "ProcessPool" in class_name(test)


def _flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t


def _import_tests(future):
    """Imports the suite (every module of the package) and collects its
    tests. future="gofutures": while it is imported, the Future the suite
    imports from concurrent.futures._base (its FutureTests, and the futures
    its wait/as_completed tests make by hand) is gofutures.Future; the
    stdlib's own modules look it up at call time and keep theirs."""
    import concurrent.futures._base as cf_base
    saved = cf_base.Future
    if future == "gofutures":
        import gofutures
        cf_base.Future = gofutures.Future
    try:
        module = importlib.import_module(SUITE)
        return list(_flatten(unittest.TestLoader().loadTestsFromModule(module)))
    finally:
        cf_base.Future = saved


def load(select="all", patterns=(), future="stdlib"):
    """Imports the suite and returns (selected tests as a flat TestSuite,
    the keys of every test the suite has)."""
    every = _import_tests(future)
    chosen = []
    for t in every:
        if select == "threads" and uses_process_pool(t):
            continue
        if select == "processes" and not uses_process_pool(t):
            continue
        if patterns and not any(fnmatch.fnmatchcase(key(t), p) for p in patterns):
            continue
        chosen.append(t)
    return unittest.TestSuite(chosen), {key(t) for t in every}
