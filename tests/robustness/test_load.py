"""Load: many threads submit to one pool while others wait on random
subsets (wait with every return_when, as_completed, result with timeouts)
and others cancel; every future completes exactly once, every task that
ran ran once, and no cancelled task ran. Run under `-X dev` (Python's
debug checks: allocator hooks, fatal errors on misuse of the C API that
debug builds would catch, ResourceWarnings), on both implementations."""
import pytest

from _scenarios import IMPLS, POOL_KINDS, assert_clean, run, script

pytestmark = pytest.mark.timeout(150)

LOAD = """
import collections, random

SUBMITTERS, PER_SUBMITTER, WAITERS, MIN_ROUNDS = 6, 4000, 4, 300

def task(key):
    ran[key] += 1          # Counter updates under the GIL; a task runs in one thread
    if key[1] % 97 == 0:
        raise ValueError(key)
    if key[1] % 31 == 0:
        time.sleep(0.001)
    return key

if __name__ == "__main__":
    ran = collections.Counter()
    completions = collections.Counter()
    lock = threading.Lock()
    futures = {}
    problems = []
    stop = threading.Event()

    def on_done(f):
        with lock:
            completions[f.key] += 1

    ex = Pool(max_workers=8)

    def submitter(s):
        rnd = random.Random(s)
        for i in range(PER_SUBMITTER):
            key = (s, i)
            f = ex.submit(task, key)
            f.key = key
            f.add_done_callback(on_done)
            with lock:
                futures[key] = f
            if rnd.random() < 0.01:
                time.sleep(0.001)

    rounds = collections.Counter()

    def waiter(w):
        rnd = random.Random(100 + w)
        while not stop.is_set() or rounds[w] < MIN_ROUNDS:
            rounds[w] += 1
            with lock:
                pool = list(futures.values())
            if not pool:
                time.sleep(0.001)
                continue
            subset = rnd.sample(pool, min(len(pool), rnd.randint(1, 50)))
            kind = rnd.randrange(5)
            if kind == 0:
                done, not_done = cf.wait(subset, timeout=0.05)
                if any(not f.done() for f in done) or done & not_done:
                    problems.append("wait")
            elif kind == 1:
                rw = rnd.choice([cf.FIRST_COMPLETED, cf.FIRST_EXCEPTION, cf.ALL_COMPLETED])
                done, _ = cf.wait(subset, timeout=0.05, return_when=rw)
                if any(not f.done() for f in done):
                    problems.append("wait " + rw)
            elif kind == 2:
                seen = set()
                try:
                    for f in cf.as_completed(subset, timeout=0.05):
                        if not f.done() or f in seen:
                            problems.append("as_completed")
                        seen.add(f)
                except cf.TimeoutError:
                    pass
            elif kind == 3:
                f = subset[0]
                try:
                    if f.result(timeout=0.05) != f.key:
                        problems.append("result")
                except (cf.TimeoutError, cf.CancelledError, ValueError):
                    pass
            else:
                for f in subset[:3]:
                    f.cancel()

    submitters = [threading.Thread(target=submitter, args=(s,)) for s in range(SUBMITTERS)]
    waiters = [threading.Thread(target=waiter, args=(w,)) for w in range(WAITERS)]
    for t in submitters + waiters:
        t.start()
    for t in submitters:
        t.join()
    done, not_done = cf.wait(list(futures.values()), timeout=60)
    stop.set()
    for t in waiters:
        t.join()
    ex.shutdown()

    fs = list(futures.values())
    cancelled = {f.key for f in fs if f.cancelled()}
    total = SUBMITTERS * PER_SUBMITTER
    print("futures", len(fs) == total, "not done", len(not_done))
    print("each completed once", all(completions[k] == 1 for k in futures), len(completions) == total)
    print("each ran at most once", max(ran.values()) == 1)
    print("cancelled never ran", not (cancelled & set(ran)))
    print("not cancelled ran", set(ran) == set(futures) - cancelled)
    print("results", all(f.cancelled() or (f.exception() is not None) == (f.key[1] % 97 == 0)
                         and (f.exception() is not None or f.result() == f.key) for f in fs))
    print("problems", problems[:5])
    print("waiter rounds", sorted(rounds.values()), file=sys.stderr)
"""

EXPECTED = [
    "futures True not done 0",
    "each completed once True True",
    "each ran at most once True",
    "cancelled never ran True",
    "not cancelled ran True",
    "results True",
    "problems []",
]


# The scenario counts task runs in the submitting process: thread pools
# only (tests/test_process_pool.py covers the process pool's bookkeeping).
@pytest.mark.parametrize("pool", ["thread"])
@pytest.mark.parametrize("impl", IMPLS)
def test_concurrent_submit_wait_cancel_under_dev_mode(tmp_path, impl, pool):
    r = run(script(tmp_path, LOAD), impl, pool, pyargs=("-X", "dev"), timeout=120)
    assert_clean(r)
    assert r.returncode == 0
    assert r.stdout.splitlines() == EXPECTED, r.stdout
    # dev mode: no ResourceWarning, no debug-hook report; only the statistics line
    assert r.stderr.startswith("waiter rounds") and r.stderr.count("\n") == 1, r.stderr
