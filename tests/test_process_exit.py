"""Process pools at interpreter exit and under Ctrl-C, in fresh interpreters:
the same script runs on concurrent.futures and on gofutures, and what a
user sees (exit status, output) must agree; nothing hangs, no worker is
left behind."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.timeout(120)

HERE = os.path.dirname(os.path.abspath(__file__))

PRELUDE = """
import os, sys, time
sys.path.insert(0, {here!r})
import proc_tasks as T
if {impl!r} == "gofutures":
    import gofutures as futures
else:
    from concurrent import futures
"""


def run_script(impl, body, timeout=60):
    code = PRELUDE.format(here=HERE, impl=impl) + textwrap.dedent(body)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


SCRIPTS = {
    "never_shut_down": """
        ex = futures.ProcessPoolExecutor(2)
        print(ex.submit(T.square, 3).result())
        fs = [ex.submit(T.sleep_then, i, 0.05) for i in range(6)]
        print("leaving")
    """,
    "shutdown_no_wait_with_queued_work": """
        ex = futures.ProcessPoolExecutor(1)
        fs = [ex.submit(T.sleep_then, i, 0.05) for i in range(5)]
        ex.shutdown(wait=False)
        print("leaving")
    """,
    "idle_pool": """
        ex = futures.ProcessPoolExecutor(2)
        print(sum(ex.map(T.square, range(10))))
    """,
    "sys_exit_in_main_with_busy_pool": """
        ex = futures.ProcessPoolExecutor(2)
        f = ex.submit(T.sleep_then, 1, 0.3)
        sys.exit(3)
    """,
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_exit_with_live_pool_matches_stdlib(name):
    a = run_script("stdlib", SCRIPTS[name])
    b = run_script("gofutures", SCRIPTS[name])
    assert b[0] == a[0], b[2]
    assert b[1] == a[1]
    assert "Traceback" not in b[2], b[2]


def test_no_worker_outlives_the_parent():
    body = """
        ex = futures.ProcessPoolExecutor(2)
        print(" ".join(str(p) for p in ex.map(T.pid, range(20))), flush=True)
        f = ex.submit(T.sleep_then, 1, 0.2)
    """
    rc, out, err = run_script("gofutures", body)
    assert rc == 0, err
    pids = {int(x) for x in out.split()}
    deadline = time.monotonic() + 10
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = {p for p in pids if os.path.exists("/proc/%d" % p)}
        time.sleep(0.05)
    assert not alive


def test_orphaned_worker_exits_when_parent_is_killed():
    code = PRELUDE.format(here=HERE, impl="gofutures") + textwrap.dedent("""
        ex = futures.ProcessPoolExecutor(1)
        print(ex.submit(T.pid).result(), flush=True)
        time.sleep(60)
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    worker = int(p.stdout.readline())
    p.kill()
    p.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/stat" % worker) as f:
                if f.read().split()[2] == "Z":
                    break
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its killed parent")


@pytest.mark.parametrize("what", ["result", "map", "wait", "as_completed", "shutdown"])
def test_ctrl_c_interrupts_waits_on_process_pool(what):
    waits = {
        "result": "ex.submit(T.sleep_then, 1, 30).result()",
        "map": "list(ex.map(T.sleep_then, [1], [30]))",
        "wait": "futures.wait([ex.submit(T.sleep_then, 1, 30)])",
        "as_completed": "list(futures.as_completed([ex.submit(T.sleep_then, 1, 30)]))",
        "shutdown": "ex.submit(T.sleep_then, 1, 30); ex.shutdown(wait=True)",
    }
    code = PRELUDE.format(here=HERE, impl="gofutures") + textwrap.dedent("""
        ex = futures.ProcessPoolExecutor(1)
        ex.submit(T.square, 1).result()
        print("ready", flush=True)
        try:
            %s
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        for p in ex._processes.values():
            p.terminate()
        ex.shutdown(wait=True, cancel_futures=True)
        print("clean", flush=True)
    """ % waits[what])
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        pytest.fail("Ctrl-C did not interrupt %s" % what)
    assert out.split() == ["interrupted", "clean"], err
    assert p.returncode == 0, err
