"""DaskExecutor against dask's own APIs, side by side in one run, on a real
LocalCluster (scheduler in this process, 2 worker processes of 1 thread,
loopback); RayExecutor against ray.get/ray.wait loops on a local Ray
instance of 2 CPUs (loopback). Each round runs every contender once, in
turn (so machine load hits them alike); the table gives each one's median
time per task and the paired ratio gofutures/engine (median and range over
the rounds).

  python benchmarks/cluster_bench.py [--engine dask|ray] [--rounds R] [--n N] [--wait-n N]

--engine dask needs gofutures[dask], ray needs gofutures[ray]. Dask rows:
  submit+result: one task at a time, submit then result()
  map:           N tasks through map() (gofutures: DaskExecutor.map;
                 dask: client.get_executor().map, and client.map +
                 distributed.as_completed(with_results=True))
  wait / as_completed: N tasks submitted, then waited for with
                 gofutures.wait / gofutures.as_completed (+ result()) vs
                 distributed.wait (+ gather) / distributed.as_completed
                 (with_results=True)
Ray rows (ray's side: f = ray.remote(inc)):
  submit+result: ray.get(f.remote(i)), one at a time
  map:           ray.get([f.remote(x) for x in xs])
  wait:          ray.wait(refs, num_returns=len(refs)) + ray.get(refs)
  as_completed:  the ray.wait loop (num_returns=1: the next one done,
                 then ray.get of it), and ray.wait in batches of up to 100
"""
import argparse
import logging
import os
import statistics
import time

import gofutures


def inc(x):
    return x + 1


def contenders(client, n, wait_n):
    import distributed
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


def ray_contenders(n, wait_n):
    import ray
    gx = gofutures.RayExecutor()
    f = ray.remote(inc)
    xs, ws = list(range(n)), list(range(wait_n))
    expect, wexpect = sum(xs) + n, sum(ws) + wait_n

    def g_submit():
        return sum(gx.submit(inc, i).result() for i in range(n // 10))

    def r_submit():
        return sum(ray.get(f.remote(i)) for i in range(n // 10))

    def g_map():
        return sum(gx.map(inc, xs))

    def r_map():
        return sum(ray.get([f.remote(x) for x in xs]))

    def g_wait():
        fs = [gx.submit(inc, i) for i in ws]
        gofutures.wait(fs)
        return sum(fut.result() for fut in fs)

    def r_wait():
        refs = [f.remote(i) for i in ws]
        ray.wait(refs, num_returns=len(refs))
        return sum(ray.get(refs))

    def g_ac():
        fs = [gx.submit(inc, i) for i in ws]
        return sum(fut.result() for fut in gofutures.as_completed(fs))

    def r_ac(batch):
        def run():
            pending, total = [f.remote(i) for i in ws], 0
            while pending:
                done, pending = ray.wait(pending, num_returns=min(batch, len(pending)))
                total += sum(ray.get(done))
            return total
        return run

    return gx, [
        ("submit+result", n // 10, sum(range(n // 10)) + n // 10,
         [("gofutures", g_submit), ("ray.get loop", r_submit)]),
        ("map", n, expect, [("gofutures", g_map), ("ray.get([refs])", r_map)]),
        ("wait %d" % wait_n, wait_n, wexpect, [("gofutures", g_wait), ("ray.wait(all)+get", r_wait)]),
        ("as_completed %d" % wait_n, wait_n, wexpect,
         [("gofutures", g_ac), ("ray.wait loop, 1", r_ac(1)), ("ray.wait loop, 100", r_ac(100))]),
    ]


def run_rows(rows, rounds):
    for _, fn in rows[0][3]:   # warm up: imports, function caches on the workers
        fn()
    print("| workload | contender | median µs/task | gofutures/this (median, range) |")
    print("|---|---|---:|---|")
    for name, count, expect, cs in rows:
        times = {c: [] for c, _ in cs}
        for _ in range(rounds):
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", choices=("dask", "ray"), default="dask")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--wait-n", type=int, default=10_000)
    args = ap.parse_args()
    if args.engine == "ray":
        # Ray on loopback (see tests/cluster/cluster_fixtures.py); read at import.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        import ray
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 _node_ip_address="127.0.0.1")
        try:
            gx, rows = ray_contenders(args.n, args.wait_n)
            run_rows(rows, args.rounds)
            gx.shutdown()
        finally:
            ray.shutdown()
        return
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.CRITICAL) as cl, \
            Client(cl) as client:   # the default client: distributed.as_completed uses it
        gx, rows = contenders(client, args.n, args.wait_n)
        run_rows(rows, args.rounds)
        gx.shutdown()


if __name__ == "__main__":
    main()
