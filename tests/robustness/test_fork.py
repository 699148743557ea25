"""os.fork() and multiprocessing's fork start method with gofutures loaded.

In a child forked after the Go engine was loaded, gofutures runs the
stdlib's implementation (python/gofutures/_fork.py, cshim/fork.h): these
tests check that the child's pools, wait, as_completed and Future behave as
the stdlib's (differential), that the child exits cleanly through the normal
interpreter exit (atexit hooks, finalization of the parent's objects), and
that the parent's pools keep working after the fork.
"""
import sys

import pytest

from _scenarios import IMPLS, POOL_KINDS, assert_clean, differential, run, same_outcome, script

pytestmark = pytest.mark.timeout(120)

# On 3.12+ fork() warns once Go's threads exist (gofutures) or while a pool's
# workers live (stdlib): a documented difference, checked by
# test_fork_deprecation_warning and silenced in the differential runs.
NO_FORK_WARNING = ("-W", "ignore:This process:DeprecationWarning")

CHILD = """
def slow(x):
    time.sleep(0.3)
    return x

def child_work(tag):
    with Pool(max_workers=2) as ex:
        print(tag, "map", list(ex.map(abs, [-1, -2, -3])))
        fs = [ex.submit(pow, 2, i) for i in range(4)]
        done, not_done = cf.wait(fs)
        print(tag, "wait", sorted(f.result() for f in done), len(not_done))
        print(tag, "as_completed", sorted(f.result() for f in cf.as_completed(fs)))
        f = ex.submit(slow, 9)
        print(tag, "first", len(cf.wait([f], return_when=cf.FIRST_COMPLETED).done))
    f = cf.Future()
    f.set_result(5)
    print(tag, "future", f.result(), type(f).__mro__[-2].__name__)
    sys.stdout.flush()

def fork(body):
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        body()
        raise SystemExit(0)   # a normal interpreter exit, through main()'s frames
    _, status = os.waitpid(pid, 0)
    print("child status", os.waitstatus_to_exitcode(status), flush=True)
"""

WHEN = {
    "after_import": """
        fork(lambda: child_work("child"))
    """,
    "after_pool_shut_down": """
        with Pool(max_workers=2) as ex:
            print("parent", ex.submit(pow, 3, 2).result())
        fork(lambda: child_work("child"))
    """,
    "live_idle_pool": """
        ex = Pool(max_workers=2)
        print("parent", ex.submit(pow, 3, 2).result())
        fork(lambda: child_work("child"))
        print("parent again", ex.submit(pow, 3, 3).result(), list(ex.map(abs, [-4, -5])))
        ex.shutdown()
    """,
    "live_busy_pool": """
        ex = Pool(max_workers=2)
        busy = [ex.submit(slow, i) for i in range(4)]
        fork(lambda: child_work("child"))
        print("parent busy", [f.result() for f in busy])
        print("parent again", ex.submit(pow, 3, 3).result())
    """,
    "grandchild": """
        ex = Pool(max_workers=2)
        print("parent", ex.submit(pow, 3, 2).result())
        def child():
            child_work("child")
            fork(lambda: child_work("grandchild"))
        fork(child)
        print("parent again", ex.submit(pow, 3, 3).result())
    """,
    "parent_future_waited_after_fork": """
        ex = Pool(max_workers=1)
        f = ex.submit(slow, 7)
        fork(lambda: print("child alive", flush=True))
        print("parent", f.result(), cf.wait([f]).done == {f})
    """,
}


def stdlib_clean(got):
    """Whether the stdlib's run was free of tracebacks. With a live process
    pool, the stdlib's own forked children print multiprocessing's exit
    errors ('can only join a child process': the parent's workers are in
    the child's list of children; 'daemonic processes are not allowed to
    have children'); gofutures is held to the same output (same_outcome),
    not to more."""
    return "Traceback" not in got["stdlib"].stderr


def body(code):
    import textwrap
    return CHILD + "\nif __name__ == '__main__':\n" + textwrap.indent(textwrap.dedent(code), "    ")


@pytest.mark.parametrize("pool", POOL_KINDS)
@pytest.mark.parametrize("when", sorted(WHEN))
def test_fork_like_stdlib(tmp_path, when, pool):
    path = script(tmp_path, body(WHEN[when]))
    got = differential(path, pool, pyargs=NO_FORK_WARNING)
    same_outcome(got)
    if stdlib_clean(got):
        assert_clean(got["gofutures"], when)
    assert got["gofutures"].returncode == 0
    # From 3.14 (forkserver by default) a child forked while the parent's
    # pool has workers fails in multiprocessing's own atexit join ("can only
    # join a child process") on the stdlib too: compare with it there.
    if sys.version_info < (3, 14) or "child status 0" in got["stdlib"].stdout:
        assert got["gofutures"].stdout.count("child status 0") >= 1


MP = """
def job(i):
    with Pool(max_workers=2) as ex:
        return sum(ex.map(abs, range(-i, 1)))

def proc_target(q):
    with Pool(max_workers=2) as ex:
        q.put(sorted(f.result() for f in cf.as_completed([ex.submit(pow, 2, i) for i in range(3)])))

if __name__ == "__main__":
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    ex = Pool(max_workers=2)
    print("parent", ex.submit(pow, 3, 2).result(), flush=True)
    with ctx.Pool(2) as p:
        print("mp.Pool", p.map(job, range(5)), flush=True)
    q = ctx.Queue()
    pr = ctx.Process(target=proc_target, args=(q,))
    pr.start()
    print("mp.Process", q.get(timeout=30), flush=True)
    pr.join(30)
    print("exitcode", pr.exitcode, flush=True)
    print("parent again", ex.submit(pow, 3, 3).result(), flush=True)
"""


@pytest.mark.parametrize("pool", POOL_KINDS)
def test_multiprocessing_fork_like_stdlib(tmp_path, pool):
    path = script(tmp_path, MP)
    got = differential(path, pool, pyargs=NO_FORK_WARNING)
    same_outcome(got)
    if stdlib_clean(got):
        assert_clean(got["gofutures"])
        assert "exitcode 0" in got["gofutures"].stdout


FROM_TASK = """
import multiprocessing as mp

def target(q):
    with Pool(max_workers=2) as ex:
        q.put(sum(ex.map(abs, range(-5, 0))))

def mp_task():
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(q,))
    p.start()
    r = q.get(timeout=30)
    p.join(30)
    return r, p.exitcode

def fork_task():
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        with Pool(max_workers=2) as ex:
            print("child of a worker", ex.submit(pow, 2, 5).result(), flush=True)
        os._exit(0)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

if __name__ == "__main__":
    with Pool(max_workers=2) as ex:
        print("mp from a task", ex.submit(mp_task).result(timeout=60), flush=True)
        print("fork from a task", ex.submit(fork_task).result(timeout=60), flush=True)
"""


@pytest.mark.parametrize("pool", POOL_KINDS)
def test_fork_from_a_task_like_stdlib(tmp_path, pool):
    """A worker thread forks (os.fork, multiprocessing): the child, whose
    only thread was a worker, uses new pools and exits."""
    got = differential(script(tmp_path, FROM_TASK), pool, pyargs=NO_FORK_WARNING)
    assert_clean(got["gofutures"])
    assert got["gofutures"].stdout.splitlines() == [
        "mp from a task (15, 0)", "child of a worker 32", "fork from a task 0"]
    # The stdlib's multiprocessing child exits with status 1 here (its exit
    # hook joins the parent's worker thread, which is the child's own
    # thread); gofutures' child exits with 0. Everything else is the same.
    std = got["stdlib"]
    assert std.returncode == got["gofutures"].returncode == 0
    assert std.stdout.splitlines()[1:] == got["gofutures"].stdout.splitlines()[1:]
    assert std.stdout.startswith("mp from a task (15, ")


PRE_FORK_OBJECTS = """
if __name__ == "__main__":
    ex = Pool(max_workers=1)
    done = ex.submit(pow, 2, 3)
    done.result()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        import gofutures._gofutures as g
        print("forked flag", g.forked())
        for what, call in [("result", lambda: done.result()), ("done", done.done),
                           ("repr", lambda: repr(done)), ("submit", lambda: ex.submit(abs, 1)),
                           ("cancel", done.cancel)]:
            try:
                call()
                print(what, "ok")
            except RuntimeError as e:
                print(what, "RuntimeError", "before os.fork()" in str(e))
        ex.shutdown()   # nothing of the parent's pool runs here: a no-op
        print("shutdown ok")
        print("new Future", type(g.Future()).__module__)
        del done, ex    # freed without calling Go
        raise SystemExit(0)
    _, status = os.waitpid(pid, 0)
    print("child status", os.waitstatus_to_exitcode(status))
    print("parent", done.result(), ex.submit(abs, -2).result())
"""


def test_pre_fork_objects_refuse_in_child_instead_of_hanging(tmp_path):
    """gofutures only (documented): objects made before the fork cannot
    be used in the child; they raise RuntimeError instead of hanging, and
    the child still exits cleanly."""
    r = run(script(tmp_path, PRE_FORK_OBJECTS), "gofutures")
    assert_clean(r)
    assert r.stdout.splitlines() == [
        "forked flag True",
        "result RuntimeError True", "done RuntimeError True", "repr RuntimeError True",
        "submit RuntimeError True", "cancel RuntimeError True",
        "shutdown ok", "new Future concurrent.futures._base",
        "child status 0", "parent 8 2"]


WARN = """
import warnings
def try_fork():
    sys.stdout.flush()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pid = os.fork()
        if pid == 0:
            os._exit(0)
    os.waitpid(pid, 0)
    warned = [w for w in caught if issubclass(w.category, DeprecationWarning)
              and "multi-threaded" in str(w.message)]
    return "warned" if warned else "silent"

if __name__ == "__main__":
    if os.environ["ROBUST_IMPL"] == "gofutures":
        import gofutures
        import gofutures.thread
        gofutures.install()   # neither loads the engine
    print("after import and install", try_fork())
    with cf.ThreadPoolExecutor(2) as ex:
        ex.submit(abs, 1).result()
    print("after a pool", try_fork())
    t = threading.Thread(target=time.sleep, args=(0.5,))
    t.start()
    print("with a live thread", try_fork())   # the check itself can fail
    t.join()
"""


@pytest.mark.parametrize("impl", IMPLS)
def test_fork_deprecation_warning(tmp_path, impl):
    """Importing gofutures (and install()) never makes fork() warn. Once the
    Go engine is loaded, its runtime threads live for the rest of the
    process, so on 3.12+ fork() warns from then on (documented in README),
    where the stdlib's joined pool leaves no thread behind."""
    r = run(script(tmp_path, WARN), impl)
    assert r.returncode == 0, r.stderr
    after_pool = "warned" if impl == "gofutures" and sys.version_info >= (3, 12) else "silent"
    live = "warned" if sys.version_info >= (3, 12) else "silent"
    assert r.stdout.splitlines() == ["after import and install silent",
                                     "after a pool " + after_pool,
                                     "with a live thread " + live]
