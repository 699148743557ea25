"""python -m gofutures top: a live table of the pools of a running demo.

    python -m gofutures top [--interval SECONDS] [--duration SECONDS] [--once]

The demo runs three thread pools in this process (quick CPU tasks in
bursts, sleeping "I/O" tasks, and a flaky pool whose tasks sometimes raise
or are cancelled while queued) and redraws the table of their statistics
every interval. Statistics are per process: watch(), the loop used here,
shows the pools of whatever program calls it.
"""
import argparse
import random
import sys
import threading
import time

import gofutures

from .. import _stats

CLEAR = "\x1b[H\x1b[2J"


def table():
    """The current table: every live pool, then the process-wide total."""
    rows = _stats.live_pools()
    rows.append((None, gofutures.stats()))
    return _stats.format_table(rows)


def watch(interval=1.0, duration=None, file=None, stop=None):
    """Prints table() every interval (redrawn in place on a terminal) until
    duration passes or stop (a threading.Event) is set."""
    file = file or sys.stdout
    tty = file.isatty()
    end = None if duration is None else time.monotonic() + duration
    while True:
        text = "gofutures pools  %s\n\n%s\n" % (time.strftime("%H:%M:%S"), table())
        file.write((CLEAR + text) if tty else text + "\n")
        file.flush()
        if end is not None and time.monotonic() >= end:
            return
        wait = interval if end is None else max(0.0, min(interval, end - time.monotonic()))
        if stop is not None:
            if stop.wait(wait):
                return
        else:
            time.sleep(wait)


def _demo(stop):
    """Keeps three pools busy until stop is set; returns their executors."""
    rnd = random.Random(1)
    fast = gofutures.ThreadPoolExecutor(4, thread_name_prefix="cpu-bursts")
    io = gofutures.ThreadPoolExecutor(8, thread_name_prefix="sleepy-io")
    flaky = gofutures.ThreadPoolExecutor(2, thread_name_prefix="flaky")

    def bursts():
        while not stop.is_set():
            fs = [fast.submit(pow, i, 65537, 1_000_003) for i in range(rnd.randrange(500, 5000))]
            gofutures.wait(fs)
            stop.wait(0.05)

    def sleepy():
        while not stop.is_set():
            fs = [io.submit(time.sleep, rnd.expovariate(1 / 0.004)) for _ in range(40)]
            gofutures.wait(fs)

    def fail_sometimes(i):
        time.sleep(0.002)
        if i % 7 == 0:
            raise ValueError("task %d failed" % i)
        return i

    def troubled():
        i = 0
        while not stop.is_set():
            fs = [flaky.submit(fail_sometimes, i + k) for k in range(20)]
            i += 20
            for f in fs[-5:]:
                f.cancel()            # the queued tail: cancelled before it runs
            gofutures.wait(fs)

    threads = [threading.Thread(target=t, daemon=True) for t in (bursts, sleepy, troubled)]
    for t in threads:
        t.start()
    return (fast, io, flaky), threads


def main(argv):
    ap = argparse.ArgumentParser(prog="python -m gofutures top", description=__doc__.splitlines()[0])
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between tables (default 1)")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds to run the demo (default 10)")
    ap.add_argument("--once", action="store_true", help="print one table after --duration and exit")
    a = ap.parse_args(argv)
    stop = threading.Event()
    executors, threads = _demo(stop)
    try:
        if a.once:
            time.sleep(a.duration)
            print(table())
        else:
            watch(a.interval, a.duration)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for t in threads:
            t.join()
        for ex in executors:
            ex.shutdown()
    return 0
