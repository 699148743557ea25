"""The demonstration: one workload, two engines, same answers."""
import concurrent.futures as cf
import hashlib
import sys
import time

import gofutures


def workload(mod, n):
    """Thread-pool work as typical code writes it; returns (checksum, seconds)."""
    t0 = time.perf_counter()
    with mod.ThreadPoolExecutor(4) as ex:
        fs = [ex.submit(pow, i, 2, 1_000_003) for i in range(n)]
        total = sum(f.result() for f in mod.as_completed(fs))
        total += sum(ex.map(len, (str(i) for i in range(n))))
        done, not_done = mod.wait([ex.submit(hashlib.sha256, b"x" * 1024) for _ in range(64)])
        total += len(done) - len(not_done)
    return total, time.perf_counter() - t0


def main(argv):
    n = int(argv[0]) if argv else 100_000
    print("gofutures %s on Python %s" % (gofutures.__version__, sys.version.split()[0]))
    print("workload: %d submit+as_completed, %d map items, 64 wait()ed hashes, 4 threads" % (n, n))
    workload(cf, 1000)
    workload(gofutures, 1000)
    a_sum, a = workload(cf, n)
    b_sum, b = workload(gofutures, n)
    print("  concurrent.futures  %8.3f s   checksum %d" % (a, a_sum))
    print("  gofutures           %8.3f s   checksum %d" % (b, b_sum))
    ok = a_sum == b_sum
    print("results agree: %s; time ratio gofutures/stdlib = %.2f (one run; see `python -m gofutures bench`)"
          % ("yes" if ok else "NO", b / a))
    return 0 if ok else 1
