"""gofutures.RayExecutor against a real local Ray instance on loopback
(cluster_fixtures.ray_instance: GCS, raylet and 2 CPUs of workers). Skips
when ray is not installed (pip install gofutures[ray])."""
import concurrent.futures as cf
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import gofutures

from cluster_fixtures import HERE, RAY_INIT, ray_instance  # noqa: F401 (fixtures)
import cluster_checks as C
import cluster_tasks as T

ray = pytest.importorskip("ray")

from cluster_tasks import outcome  # noqa: E402


@ray.remote
class Gate:
    """A flag the tasks wait on, set from the test (an actor: no files)."""
    def __init__(self):
        self.open = False
        self.pids = []

    def started(self, pid):
        self.pids.append(pid)

    def get_pids(self):
        return list(self.pids)

    def set(self):
        self.open = True

    def is_open(self):
        return self.open


def gated(gate, limit=60.0):
    """A task: reports its worker's pid, then waits (bounded) for the gate."""
    gate.started.remote(os.getpid())
    end = time.monotonic() + limit
    while not ray.get(gate.is_open.remote()) and time.monotonic() < end:
        time.sleep(0.02)
    return os.getpid()


def until(pred, what, limit=60.0):
    """Bounded wait for a state of the cluster that no local event reports."""
    end = time.monotonic() + limit
    while not pred():
        assert time.monotonic() < end, "timed out waiting for " + what
        time.sleep(0.02)


def started(gate, n):
    until(lambda: len(ray.get(gate.get_pids.remote())) >= n, "%d gated tasks to start" % n)
    return ray.get(gate.get_pids.remote())


def descendants():
    """(pid, name) of every process below this one (Ray's GCS, raylet, workers)."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            name, rest = st[st.index("(") + 1:st.rindex(")")], st[st.rindex(")") + 2:].split()
            kids.setdefault(int(rest[1]), []).append((int(d), name))
    out, todo = [], [os.getpid()]
    while todo:
        for pid, name in kids.get(todo.pop(), ()):
            out.append((pid, name))
            todo.append(pid)
    return out


def listening(pids):
    """{(pid, address)} of the listening TCP sockets of these processes."""
    addrs = {}
    for fname, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        with open(fname) as f:
            for line in f.readlines()[1:]:
                col = line.split()
                if col[3] != "0A":   # LISTEN
                    continue
                hexip = col[1].split(":")[0]
                if v6:
                    # 4 little-endian words; ::ffff:a.b.c.d is IPv4-mapped
                    words = [bytes.fromhex(hexip[i:i + 8])[::-1] for i in range(0, 32, 8)]
                    raw = b"".join(words)
                    ip = ".".join(map(str, raw[12:])) if raw[:12] == b"\0" * 10 + b"\xff\xff" else raw.hex()
                else:
                    ip = ".".join(map(str, bytes.fromhex(hexip)[::-1]))
                addrs[col[9]] = "%s:%d" % (ip, int(col[1].split(":")[1], 16))
    out = set()
    for pid in pids:
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in addrs:
                out.add((pid, addrs[link[8:-1]]))
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ray_listens_on_loopback_only(ray_instance):
    assert ray_instance.address_info["node_ip_address"] == "127.0.0.1"
    with gofutures.RayExecutor() as rex:   # workers started
        assert rex.submit(T.square, 3).result(timeout=60) == 9
    procs = dict(descendants())
    assert {"gcs_server", "raylet"} <= set(procs.values()), procs
    socks = listening(list(procs) + [os.getpid()])
    assert socks, "no listening sockets found"
    assert {a.rsplit(":", 1)[0] for _, a in socks} == {"127.0.0.1"}, \
        sorted((procs.get(p, "driver"), a) for p, a in socks)


def test_import_gofutures_does_not_import_ray():
    C.check_import_does_not_import("ray")


def test_differential_against_process_pool(ray_instance):
    with gofutures.RayExecutor() as rex:
        C.check_against_process_pool(rex)
        assert isinstance(rex.submit(T.square, 2), gofutures.Future)
        assert rex.submit(T.add, 1, y=2, key="K").result(timeout=60) == (3, "K", None)


def test_cancel_pending_future(ray_instance):
    gate = Gate.remote()
    with gofutures.RayExecutor() as rex:
        blockers = [rex.submit(gated, gate) for _ in range(2)]   # both CPUs
        started(gate, 2)
        victim = rex.submit(T.square, 5)
        assert victim.cancel() and victim.cancelled() and victim.done()
        assert victim in cf.wait([victim], timeout=5).done    # the stdlib's wait too
        with pytest.raises(cf.CancelledError):
            victim.result()
        gate.set.remote()
        assert len({b.result(timeout=60) for b in blockers}) == 2
        s = rex.stats()
        assert (s.submitted, s.completed, s.cancelled) == (3, 2, 1)
        assert s.completed + s.failed + s.cancelled + s.running + s.queued == s.submitted


def test_shutdown_cancel_futures(ray_instance):
    gate = Gate.remote()
    rex = gofutures.RayExecutor()
    blockers = [rex.submit(gated, gate) for _ in range(2)]
    started(gate, 2)
    queued = [rex.submit(T.square, i) for i in range(6)]
    rex.shutdown(wait=False, cancel_futures=True)
    assert all(f.cancelled() for f in queued)
    with pytest.raises(RuntimeError):
        rex.submit(T.square, 1)
    gate.set.remote()
    # Ray does not say which tasks have started, so the running ones are
    # cancelled too (Ray interrupts them): they end, cancelled or done.
    assert cf.wait(blockers, timeout=60).done == set(blockers)
    with gofutures.RayExecutor() as rex2:   # Ray carries on
        assert rex2.submit(T.square, 4).result(timeout=60) == 16


def test_backpressure_bounds_what_ray_holds(ray_instance):
    gate = Gate.remote()
    rex = gofutures.RayExecutor(max_pending=3, pending_timeout=60)
    submitted = []
    go = threading.Event()

    def producer():
        go.set()
        for _ in range(8):
            submitted.append(rex.submit(gated, gate))
    th = threading.Thread(target=producer)
    th.start()
    go.wait()
    until(lambda: len(submitted) == 3, "3 submits")
    started(gate, 2)
    # The 4th submit is blocked: Ray was given 3 tasks of ours, no more
    # (2 running, one queued on the raylet).
    assert th.is_alive() and len(submitted) == 3 and len(rex._pending) == 3
    gate.set.remote()
    th.join(60)
    assert not th.is_alive()
    assert all(f.result(timeout=60) for f in submitted)
    assert len(ray.get(gate.get_pids.remote())) == 8
    assert rex.stats().queue_high_water == 3
    rex.shutdown()

    gate2 = Gate.remote()
    with gofutures.RayExecutor(max_pending=1, pending_timeout=0.2) as rex2:
        f = rex2.submit(gated, gate2)
        with pytest.raises(TimeoutError, match=r"no room for a new task: 1 pending after 0.2 s"):
            rex2.submit(T.square, 2)
        gate2.set.remote()
        assert f.result(timeout=60)


def test_worker_killed_mid_task_is_retried_by_ray(ray_instance):
    # Ray's own policy: a task whose worker died runs again (max_retries,
    # Ray's default 3); its future gets the retry's result.
    gate = Gate.remote()
    with gofutures.RayExecutor() as rex:
        f = rex.submit(gated, gate)
        (pid,) = started(gate, 1)
        os.kill(pid, signal.SIGKILL)
        pids = started(gate, 2)            # the retry, in a new worker
        gate.set.remote()
        assert f.result(timeout=60) == pids[1] != pid
        assert rex.stats().completed == 1


def test_worker_killed_without_retries_fails_that_future_only(ray_instance):
    gate = Gate.remote()
    with gofutures.RayExecutor(max_retries=0) as rex:
        fs = [rex.submit(gated, gate) for _ in range(2)]
        pids = started(gate, 2)
        os.kill(pids[0], signal.SIGKILL)
        gate.set.remote()
        outs = sorted((outcome(f) for f in fs), key=lambda o: o[0])
        assert outs[0][0] == "exc" and issubclass(outs[0][1], ray.exceptions.WorkerCrashedError), outs
        assert outs[1] == ("ok", pids[1])
        assert rex.submit(T.square, 5).result(timeout=60) == 25
        s = rex.stats()
        assert (s.completed, s.failed) == (2, 1)
        assert s.completed + s.failed + s.cancelled + s.running + s.queued == s.submitted


def test_task_timeout(ray_instance):
    with gofutures.RayExecutor(task_timeout=0.5) as rex:
        f = rex.submit(T.sleep, 30)
        with pytest.raises(TimeoutError, match="task_timeout"):
            f.result(timeout=60)
        assert type(f.exception()) is TimeoutError
    with gofutures.RayExecutor() as rex:   # Ray carries on
        assert rex.submit(T.square, 3).result(timeout=60) == 9


def test_idle_executor_is_freed_when_dropped(ray_instance):
    # Its watchdog thread runs only while tasks are pending: a dropped idle
    # executor (never shut down) is freed, and so are its threads.
    import gc
    import weakref
    rex = gofutures.RayExecutor()
    assert rex.submit(T.square, 3).result(timeout=60) == 9
    ref = weakref.ref(rex)
    del rex
    deadline = time.monotonic() + 30
    while ref() is not None and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.05)   # the watchdog's next check (every 0.5 s) ends it
    assert ref() is None


def test_mixed_wait(ray_instance):
    gate = Gate.remote()
    with gofutures.RayExecutor() as rex, gofutures.ThreadPoolExecutor(2) as tpe:
        C.check_mixed_wait(rex, tpe, 5, lambda: rex.submit(gated, gate), lambda: gate.set.remote())


SIGINT_CHILD = textwrap.dedent("""
    import sys, gofutures, cluster_tasks as T
    from cluster_checks import block_until_interrupted
    ex = gofutures.RayExecutor(sys.argv[1], log_to_driver=False)   # joins the test's Ray
    blocked = block_until_interrupted(lambda: ex.submit(T.sleep, 60))
    for f in blocked:
        f.cancel()
    print("usable", ex.submit(T.square, 7).result(timeout=60), flush=True)
    ex.shutdown()
""")


def test_ctrl_c_interrupts_blocking_calls(ray_instance):
    C.check_ctrl_c_interrupts(SIGINT_CHILD, ray_instance.address_info["gcs_address"])
    with gofutures.RayExecutor() as rex:   # Ray is still usable from here too
        assert rex.submit(T.square, 3).result(timeout=60) == 9


BROKEN_CHILD = textwrap.dedent("""
    import concurrent.futures as cf, os, sys, threading
    from cluster_fixtures import RAY_INIT
    import ray, gofutures, cluster_tasks as T
    from test_ray_executor import descendants

    def check(rex, f):
        try:
            f.result(timeout=60)
        except cf.BrokenExecutor as e:
            print("broken", e, flush=True)
        try:
            rex.submit(T.square, 1)
        except cf.BrokenExecutor as e:
            print("submit broken", flush=True)
        rex.shutdown()

    def reap(procs):
        # A killed raylet's children (its dashboard and runtime-env agents)
        # outlive it, orphaned (also when ray.shutdown() ends the raylet
        # after the GCS was killed): end them.
        for pid, name in procs:
            if name.startswith("ray::") and os.path.exists("/proc/%d" % pid):
                os.kill(pid, 9)

    # 1. ray.shutdown() from outside the executor, a task running.
    ray.init(**RAY_INIT)
    rex = gofutures.RayExecutor(max_pending=4)
    assert rex.submit(T.square, 2).result(timeout=60) == 4
    f = rex.submit(T.sleep, 60)
    threading.Timer(0.5, ray.shutdown).start()
    check(rex, f)
    def kill_under_it(process):
        # A RayExecutor that started Ray, a task running; Ray's `process` killed.
        rex = gofutures.RayExecutor(**RAY_INIT)
        assert rex.submit(T.square, 2).result(timeout=60) == 4
        f = rex.submit(T.sleep, 60)
        procs = descendants()
        (victim,) = [pid for pid, name in procs if name == process]
        os.kill(victim, 9)
        check(rex, f)
        reap(procs)

    # 2. The GCS server killed under a RayExecutor that started Ray.
    kill_under_it("gcs_server")
    # 3. The raylet killed (a task running: its worker outlives the raylet).
    ray.shutdown()
    kill_under_it("raylet")
    print("done", flush=True)
""")


def test_ray_gone_breaks_the_executor():
    # Its own Ray instances, in a child: they are shut down / killed under it.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", BROKEN_CHILD], capture_output=True, text=True,
                         timeout=240, env=env)
    # (Ray itself prints the raylet's death and its last log lines to stdout.)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith(("broken ", "submit ", "done"))]
    assert lines == [
        "broken RayExecutor is broken: Ray was shut down under it (ray.shutdown() or the driver disconnected)",
        "submit broken",
        "broken RayExecutor is broken: the local Ray gcs_server process died (exit status -9)",
        "submit broken",
        "broken RayExecutor is broken: the local Ray raylet process died (exit status -9)",
        "submit broken",
        "done"], (out.stdout, out.stderr[-3000:])
