"""Several threads wait() on the same futures at once: pool futures (one Go
waiter each, registered on the same Go futures) and foreign futures (one
bridge each in the same _waiters list), with every return_when, with and
without a timeout, while the futures complete in a known order. Each
thread's (done, not_done) must be the stdlib's. Runs in its own
interpreter on both implementations.
"""
import json

import pytest

from _conc_scenarios import differential, script

pytestmark = pytest.mark.timeout(180)

SHARED_WAIT = """
class CountingList(list):
    \"\"\"A _waiters list that counts the waiters appended to it.\"\"\"
    def __init__(self):
        super().__init__()
        self.appended = threading.Semaphore(0)
    def append(self, w):
        super().append(w)
        self.appended.release()


if __name__ == "__main__":
    kind, timeout = sys.argv[1], json.loads(sys.argv[2])
    ex = pool(kind)
    gs = [name(ex.submit(block_task, i), "g%d" % i) for i in range(3)]
    fo = [name(std.Future(), "f%d" % i) for i in range(3)]
    fo[0]._waiters = CountingList()
    members = gs + fo + gs[:1]
    kinds = [cf.FIRST_COMPLETED, cf.FIRST_EXCEPTION, cf.ALL_COMPLETED] * 2
    results = [None] * len(kinds)
    names = lambda fs: sorted(NAMES[f] for f in fs)

    def waiter(k):
        r = cf.wait(members, timeout=timeout, return_when=kinds[k])
        results[k] = [kinds[k], names(r.done), names(r.not_done)]

    ts = [threading.Thread(target=waiter, args=(k,)) for k in range(len(kinds))]
    for t in ts:
        t.start()
    for _ in ts:   # every wait() has installed its waiter (fo[0] is pending)
        assert fo[0]._waiters.appended.acquire(timeout=30)
    fo[1].set_result(1)
    for k in (0, 3):
        ts[k].join()
    fo[2].set_exception(ValueError("f2"))
    for k in (1, 4):
        ts[k].join()
    release()
    for g in gs:
        g.result(timeout=30)
    fo[0].cancel()
    fo[0].set_running_or_notify_cancel()
    for t in ts:
        t.join()
    ex.shutdown()
    report(results=results, left=len(fo[0]._waiters))
"""


@pytest.mark.parametrize("timeout", [None, 60])
@pytest.mark.parametrize("kind", ["thread", "process"])
def test_threads_wait_on_shared_futures(tmp_path, kind, timeout):
    got = differential(script(tmp_path, SHARED_WAIT), kind, json.dumps(timeout))
    every = ["f0", "f1", "f2", "g0", "g1", "g2"]
    assert got["results"][2] == [got["results"][2][0], every, []]
    assert got["left"] == 0
