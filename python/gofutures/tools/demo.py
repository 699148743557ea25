"""The demonstration: the same workloads on concurrent.futures and on
gofutures, side by side; the answers must agree."""
import concurrent.futures as cf
import hashlib
import sys
import time

import gofutures


def threads(mod, n):
    """Thread-pool work as typical code writes it; returns (checksum, seconds)."""
    t0 = time.perf_counter()
    with mod.ThreadPoolExecutor(4) as ex:
        fs = [ex.submit(pow, i, 2, 1_000_003) for i in range(n)]
        total = sum(f.result() for f in mod.as_completed(fs))
        total += sum(ex.map(len, (str(i) for i in range(n))))
        done, not_done = mod.wait([ex.submit(hashlib.sha256, b"x" * 1024) for _ in range(64)])
        total += len(done) - len(not_done)
    return total, time.perf_counter() - t0


def processes(mod, n):
    """Process-pool work: per-task submits, then a chunked map."""
    t0 = time.perf_counter()
    with mod.ProcessPoolExecutor(2) as ex:
        fs = [ex.submit(pow, i, 3, 1_000_003) for i in range(n)]
        total = sum(f.result() for f in fs)
        total += sum(ex.map(abs, range(-n, n), chunksize=256))
    return total, time.perf_counter() - t0


def compare(title, fn, n):
    fn(cf, max(n // 100, 10))        # warm up both
    fn(gofutures, max(n // 100, 10))
    a_sum, a = fn(cf, n)
    b_sum, b = fn(gofutures, n)
    print(title)
    print("  concurrent.futures  %8.3f s   checksum %d" % (a, a_sum))
    print("  gofutures           %8.3f s   checksum %d" % (b, b_sum))
    print("  results agree: %s; time ratio gofutures/stdlib = %.2f" % ("yes" if a_sum == b_sum else "NO", b / a))
    return a_sum == b_sum


def main(argv):
    n = int(argv[0]) if argv else 100_000
    print("gofutures %s on Python %s (one run each; `python -m gofutures bench` for figures)"
          % (gofutures.__version__, sys.version.split()[0]))
    ok = compare("threads: %d submit+as_completed, %d map items, 64 wait()ed hashes, 4 threads"
                 % (n, n), threads, n)
    ok &= compare("processes: %d submit+result, %d map items at chunksize 256, 2 workers"
                  % (n // 5, 2 * (n // 5)), processes, n // 5)
    return 0 if ok else 1
