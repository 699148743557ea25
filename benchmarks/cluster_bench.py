"""DaskExecutor against dask's own APIs, side by side in one run, on a real
LocalCluster (scheduler in this process, 2 worker processes of 1 thread,
loopback). Each round runs every contender once, in turn (so machine load
hits them alike); the table gives each one's median time per task and the
paired ratio gofutures/dask (median and range over the rounds).

  python benchmarks/cluster_bench.py [--rounds R] [--n N] [--wait-n N]

Needs gofutures[dask]. Rows:
  submit+result: one task at a time, submit then result()
  map:           N tasks through map() (gofutures: DaskExecutor.map;
                 dask: client.get_executor().map, and client.map +
                 distributed.as_completed(with_results=True))
  wait / as_completed: N tasks submitted, then waited for with
                 gofutures.wait / gofutures.as_completed (+ result()) vs
                 distributed.wait (+ gather) / distributed.as_completed
                 (with_results=True)
"""
import argparse
import logging
import statistics
import time

import distributed
from distributed import Client, LocalCluster

import gofutures


def inc(x):
    return x + 1


def contenders(client, n, wait_n):
    gx = gofutures.DaskExecutor(client)
    dx = client.get_executor(pure=False)
    xs, ws = list(range(n)), list(range(wait_n))
    expect, wexpect = sum(xs) + n, sum(ws) + wait_n

    def g_submit():
        return sum(gx.submit(inc, i).result() for i in range(n // 10))

    def d_submit():
        return sum(dx.submit(inc, i).result() for i in range(n // 10))

    def g_map():
        return sum(gx.map(inc, xs))

    def d_map():
        return sum(dx.map(inc, xs))

    def d_client_map():
        fs = client.map(inc, xs, pure=False)
        return sum(r for _, r in distributed.as_completed(fs, with_results=True))

    def g_wait():
        fs = [gx.submit(inc, i) for i in ws]
        gofutures.wait(fs)
        return sum(f.result() for f in fs)

    def d_wait():
        fs = client.map(inc, ws, pure=False)
        distributed.wait(fs)
        return sum(client.gather(fs))

    def g_ac():
        fs = [gx.submit(inc, i) for i in ws]
        return sum(f.result() for f in gofutures.as_completed(fs))

    def d_ac():
        fs = client.map(inc, ws, pure=False)
        return sum(r for _, r in distributed.as_completed(fs, with_results=True))

    return gx, [
        ("submit+result", n // 10, sum(range(n // 10)) + n // 10,
         [("gofutures", g_submit), ("dask get_executor", d_submit)]),
        ("map", n, expect,
         [("gofutures", g_map), ("dask get_executor", d_map), ("dask client.map+as_completed", d_client_map)]),
        ("wait %d" % wait_n, wait_n, wexpect, [("gofutures", g_wait), ("dask wait+gather", d_wait)]),
        ("as_completed %d" % wait_n, wait_n, wexpect,
         [("gofutures", g_ac), ("dask as_completed", d_ac)]),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--wait-n", type=int, default=10_000)
    args = ap.parse_args()
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.CRITICAL) as cl, \
            Client(cl) as client:   # the default client: distributed.as_completed uses it
        gx, rows = contenders(client, args.n, args.wait_n)
        for _, fn in rows[0][3]:   # warm up: imports, function caches on the workers
            fn()
        print("| workload | contender | median µs/task | gofutures/this (median, range) |")
        print("|---|---|---:|---|")
        for name, count, expect, cs in rows:
            times = {c: [] for c, _ in cs}
            for _ in range(args.rounds):
                for c, fn in cs:
                    t = time.perf_counter()
                    got = fn()
                    times[c].append(time.perf_counter() - t)
                    assert got == expect, (name, c, got, expect)
            g = times["gofutures"]
            for c, _ in cs:
                med = statistics.median(times[c]) / count * 1e6
                if c == "gofutures":
                    ratio = ""
                else:
                    rs = [a / b for a, b in zip(g, times[c])]
                    ratio = "%.2f (%.2f–%.2f)" % (statistics.median(rs), min(rs), max(rs))
                print("| %s | %s | %.0f | %s |" % (name, c, med, ratio), flush=True)
        gx.shutdown()


if __name__ == "__main__":
    main()
