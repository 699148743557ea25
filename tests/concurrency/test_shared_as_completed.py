"""Several threads drive one as_completed iterator (issue 14, point 3).

The stdlib's as_completed is a generator: while one next() runs (blocked in
its wait, or running a foreign future's _waiters/_condition code), another
next() or a close() -- from another thread or from inside that code --
raises ValueError('generator already executing'); after close(), next()
raises StopIteration. gofutures' C iterator must do the same, and must
never free its Go waiter under a running next() (that hung the consumer
for ever, or panicked 'handle used after free' and aborted the process).

Every scenario runs in its own interpreter on both implementations; the
test asserts both exited 0 and reported the same thing.
"""
import json

import pytest

from _conc_scenarios import differential, observed, script

pytestmark = pytest.mark.timeout(180)
# What next() or close() gives while another next() runs.
BUSY = ["raise", "ValueError", "generator already executing"]

# A consumer blocks in next() over a pool future (blocked until release())
# and a foreign future whose _waiters.append -- the last thing next() does
# before it waits, in both implementations -- tells the meddler to start.
# The meddler calls close() and next() while the consumer waits, then lets
# both futures finish. Consumer: the main thread (gofutures waits there in
# slices, so a freed waiter was touched again at once) or another thread.
CLOSE_DURING_WAIT = """
if __name__ == "__main__":
    consumer, timeout, kind = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    in_next = threading.Event()
    ex = pool(kind)
    f = name(ex.submit(block_task, 1), "pool")
    h = name(Hooked(append=in_next.set), "foreign")
    it = cf.as_completed([f, h], timeout=timeout)
    log, got = [], []

    def consume():
        for _ in range(10):
            o = outcome(next, it)
            got.append(o)
            if o[0] == "raise":
                break

    def meddle():
        assert in_next.wait(30)
        log.append(["close", outcome(it.close)])
        log.append(["next", outcome(next, it)])
        log.append(["close", outcome(it.close)])
        release()
        h.set_result(2)

    other = threading.Thread(target=meddle if consumer == "main" else consume)
    other.start()
    (consume if consumer == "main" else meddle)()
    other.join()
    log.append(["close after", outcome(it.close)])
    log.append(["next after", outcome(next, it)])
    ex.shutdown()
    report(log=log, yielded=sorted(map(tuple, got[:-1])), last=got[-1])
"""


@pytest.mark.parametrize("kind", ["thread", "process"])
@pytest.mark.parametrize("timeout", [None, 60])
@pytest.mark.parametrize("consumer", ["main", "thread"])
def test_close_and_next_while_next_waits(tmp_path, consumer, timeout, kind):
    got = differential(script(tmp_path, CLOSE_DURING_WAIT), consumer, json.dumps(timeout), kind)
    assert got["log"][:3] == [["close", BUSY], ["next", BUSY], ["close", BUSY]]
    assert got["yielded"] == [["ok", "foreign"], ["ok", "pool"]]
    assert got["last"] == ["raise", "StopIteration", ""]


# Code that runs inside next() -- a foreign future's _waiters.append (at the
# first next(), while the waiter is installed) or _waiters.remove (when that
# future is yielded) -- or inside close() (_waiters.remove of a future still
# pending: the generator's finally clause) calls next() and close() on the
# same iterator, from its own thread or from another one while it waits
# for it.
REENTRANT = """
if __name__ == "__main__":
    point, where = sys.argv[1], sys.argv[2]
    log, got = [], []

    def act():
        log.append(["next", outcome(next, it)])
        log.append(["close", outcome(it.close)])

    def meddle():
        if where == "same":
            act()
        else:
            t = threading.Thread(target=act)
            t.start()
            t.join()

    ex = cf.ThreadPoolExecutor(1)
    done = name(ex.submit(int, 5), "done")
    done.result()
    h = name(Hooked(**{"remove" if point == "close" else point: meddle}), "foreign")
    it = cf.as_completed([done, h])
    got.append(outcome(next, it))
    if point == "close":   # h still pending: close() takes the waiter out of it
        got.append(outcome(it.close))
    h.set_result(3)
    for _ in range(5):
        o = outcome(next, it)
        got.append(o)
        if o[0] == "raise":
            break
    log.append(["next after", outcome(next, it)])
    ex.shutdown()
    report(log=log, got=got)
"""


@pytest.mark.parametrize("where", ["same", "other"])
@pytest.mark.parametrize("point", ["append", "remove", "close"])
def test_next_and_close_from_inside_next(tmp_path, point, where):
    got = differential(script(tmp_path, REENTRANT), point, where)
    assert got["log"][:2] == [["next", BUSY], ["close", BUSY]]
    if point == "close":
        assert got["got"] == [["ok", "done"], ["ok", "None"], ["raise", "StopIteration", ""]]
    else:
        assert got["got"] == [["ok", "done"], ["ok", "foreign"], ["raise", "StopIteration", ""]]


# Four threads call next() on one iterator as fast as they can: over pool
# futures, foreign futures (completed meanwhile by a fifth thread) and two
# pool futures that block until the fifth thread releases them. The thread
# that gets the last of the others (the rest of the threads are then
# waiting in next(), or refused) closes the iterator ("close": retrying
# while another thread's next() runs) or not; only then are the two
# released. Every future is yielded at most once, to one thread, all of
# them without close; the only errors are the generator's ValueError, and
# every thread ends on StopIteration.
HAMMER = """
if __name__ == "__main__":
    kind, timeout, closing = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "close"
    ex = pool(kind)
    n = 40 if kind == "process" else 300
    fs = [name(ex.submit(abs, -i), "pool%d" % i) for i in range(n)]
    fo = [name(std.Future(), "foreign%d" % i) for i in range(30)]
    blocked = [name(ex.submit(block_task, i), "blocked%d" % i) for i in range(2)]
    it = cf.as_completed(fs + blocked + fo + fs[:5], timeout=timeout)
    start = threading.Barrier(5)
    yielded = [[] for _ in range(4)]
    unexpected, ends, closed = [], [], []
    count, count_lock = [0], threading.Lock()   # futures yielded so far, to any thread
    close_tried = threading.Event()

    def drive(k):
        start.wait()
        for _ in range(2_000_000):
            o = outcome(next, it)
            if o[0] == "ok":
                yielded[k].append(o[1])
                with count_lock:
                    count[0] += 1
                    last_ready = count[0] == len(fs) + len(fo)
                if last_ready and closing:
                    while True:
                        c = outcome(it.close)
                        close_tried.set()
                        if c[0] == "ok":
                            closed.append(True)
                            break
                        if c[1:] != ["ValueError", "generator already executing"]:
                            unexpected.append(c)
                            break
                        time.sleep(0)
                elif last_ready:
                    close_tried.set()
            elif o[1:] == ["ValueError", "generator already executing"]:
                time.sleep(0)   # give the GIL to the thread inside next()
            else:
                ends.append(o)
                return

    def feed():
        start.wait()
        for f in fo:
            f.set_result(1)
        assert close_tried.wait(30)
        release()

    ts = [threading.Thread(target=drive, args=(k,)) for k in range(4)]
    ts.append(threading.Thread(target=feed))
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    ex.shutdown()
    every = [x for y in yielded for x in y]
    report(distinct=len(every) == len(set(every)),
           complete=closing or sorted(every) == sorted(NAMES[f] for f in fs + fo + blocked),
           closed=closed == [True] if closing else True,
           unexpected=unexpected, ends=ends)
"""


@pytest.mark.parametrize("closing", ["close", "no close"])
@pytest.mark.parametrize("timeout", [None, 60])
@pytest.mark.parametrize("kind", ["thread", "process"])
def test_many_threads_drive_one_iterator(tmp_path, kind, timeout, closing):
    got = differential(script(tmp_path, HAMMER), kind, json.dumps(timeout), closing)
    assert got == {"distinct": True, "complete": True, "closed": True, "unexpected": [],
                   "ends": [["raise", "StopIteration", ""]] * 4}


# One thread, the generator's life cycle: close() before the first next(),
# close() twice, next() after a TimeoutError, after close() and after the end.
LIFECYCLE = """
if __name__ == "__main__":
    ex = cf.ThreadPoolExecutor(1)
    done = name(ex.submit(int, 1), "done")
    done.result()
    pending = name(std.Future(), "pending")
    log = []
    it = cf.as_completed([done, pending])
    log += [outcome(it.close), outcome(it.close), outcome(next, it)]
    it = cf.as_completed([done, pending], timeout=0)
    log += [outcome(next, it), outcome(next, it), outcome(next, it), outcome(it.close)]
    it = cf.as_completed([done])
    log += [outcome(next, it), outcome(next, it), outcome(it.close), outcome(next, it)]
    it = cf.as_completed([done, pending])
    log += [outcome(next, it), outcome(it.close), outcome(next, it), outcome(it.close)]
    ex.shutdown()
    report(log=log)
"""


def test_lifecycle_matches_the_generator(tmp_path):
    differential(script(tmp_path, LIFECYCLE))
