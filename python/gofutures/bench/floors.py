"""What this machine allows: the physical floors the figures are read against.

pipe_rtt     one small message to another process and back over pipes
thread_wake  one Python thread waking another (half a lock ping-pong)
pickle_rtt   pickling a process task (id, fn, args, kwargs) and its result,
             and unpickling both: what every process task pays at least
Each is the median of a few repeats, measured before the engine is loaded.
"""
import os
import pickle
import statistics
import subprocess
import sys
import threading
import time

from . import tasks

_ECHO = ("import os\n"
         "while True:\n"
         "    b = os.read(0, 256)\n"
         "    if not b: break\n"
         "    os.write(1, b)\n")


def pipe_rtt(n):
    msg = pickle.dumps((1, tasks.square, (12345,), {}))
    p = subprocess.Popen([sys.executable, "-c", _ECHO], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    w, r = p.stdin.fileno(), p.stdout.fileno()
    try:
        for _ in range(100):    # warm
            os.write(w, msg)
            os.read(r, 256)
        t0 = time.perf_counter()
        for _ in range(n):
            os.write(w, msg)
            os.read(r, 256)
        return (time.perf_counter() - t0) / n
    finally:
        p.stdin.close()
        p.wait()
        p.stdout.close()


def thread_wake(n):
    a, b = threading.Lock(), threading.Lock()
    a.acquire()
    b.acquire()

    def pong():
        for _ in range(n):
            a.acquire()
            b.release()
    t = threading.Thread(target=pong)
    t.start()
    t0 = time.perf_counter()
    for _ in range(n):
        a.release()
        b.acquire()
    elapsed = time.perf_counter() - t0
    t.join()
    return elapsed / n / 2


def pickle_rtt(n):
    item = (1, tasks.square, (12345,), {})
    t0 = time.perf_counter()
    for _ in range(n):
        pickle.loads(pickle.dumps(item, pickle.HIGHEST_PROTOCOL))
        pickle.loads(pickle.dumps((1, 12345 * 12345, None), pickle.HIGHEST_PROTOCOL))
    return (time.perf_counter() - t0) / n


def measure(quick):
    k = 1 if quick else 5
    sizes = {"pipe_rtt": 1_000 if quick else 5_000, "thread_wake": 1_000 if quick else 5_000,
             "pickle_rtt": 10_000 if quick else 50_000}
    fns = {"pipe_rtt": pipe_rtt, "thread_wake": thread_wake, "pickle_rtt": pickle_rtt}
    out = {}
    for name, fn in fns.items():
        samples = [fn(sizes[name]) for _ in range(k)]
        out[name] = statistics.median(samples)
        out[name + "_best"] = min(samples)
    return out
