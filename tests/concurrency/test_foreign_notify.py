"""A foreign future that notifies a waiter again and again (issue 14,
point 4).

A concurrent.futures.Future subclass may call its waiters' add_result /
add_exception / add_cancelled as often as it likes. gofutures' waiter took
such calls as new completions: more than n+1 of them overflowed
gf_waiter_take's buffer (a Go panic: the process aborted), and an
ALL_COMPLETED or FIRST_EXCEPTION wait counted the member again and could
return early. Now each member counts once.

The stdlib itself miscounts here (its _AllCompletedWaiter decrements per
call, so wait() returns with futures not done, and its as_completed raises
KeyError removing a future twice), so a noisy run of gofutures is compared
with the stdlib on the same scenario where the futures notify once (and,
where the stdlib is unaffected, FIRST_COMPLETED, with the stdlib's noisy
run too). Each run is its own interpreter: a crash fails one test.
"""
import json

import pytest

from _conc_scenarios import observed, script

pytestmark = pytest.mark.timeout(180)

NOISY = """
class Noisy(std.Future):
    \"\"\"Calls its waiters REPEAT more times after the stdlib's own call.\"\"\"
    repeat = 0

    def __init__(self, **hooks):
        super().__init__()
        self._waiters = HookList(hooks)

    def _again(self, method):
        for _ in range(self.repeat):
            with self._condition:
                for w in list(self._waiters):
                    getattr(w, method)(self)

    def set_result(self, r):
        super().set_result(r)
        self._again("add_result")

    def set_exception(self, e):
        super().set_exception(e)
        self._again("add_exception")

    def set_running_or_notify_cancel(self):
        if super().set_running_or_notify_cancel():
            return True
        self._again("add_cancelled")
        return False


if __name__ == "__main__":
    api, Noisy.repeat, kind, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
    installed = threading.Event()
    ex = pool(kind)
    g0 = name(ex.submit(abs, -1), "g0")
    g0.result()
    g1 = name(ex.submit(block_task, 2), "g1")
    n1 = name(Noisy(append=installed.set), "n1")
    n2, n3 = name(Noisy(), "n2"), name(Noisy(), "n3")
    first = api == "wait_first"
    members = [n1, n2, g1] if first else [n1, n2, n3, g1, g0]

    def complete():
        assert installed.wait(30)
        n1.set_result(1)
        if first:
            return
        n2.set_exception(ValueError("n2"))
        if api == "wait_first_exc":
            return
        n3.cancel()
        n3.set_running_or_notify_cancel()
        release()

    t = threading.Thread(target=complete)
    t.start()
    names = lambda fs: sorted(NAMES[f] for f in fs)
    if api == "as_completed":
        got = []
        it = cf.as_completed(members, timeout=timeout)
        for _ in range(10):
            o = outcome(next, it)
            got.append(o)
            if o[0] == "raise":
                break
        out = dict(yielded=sorted(map(tuple, got[:-1])), last=got[-1])
    else:
        when = {"wait_all": cf.ALL_COMPLETED, "wait_first": cf.FIRST_COMPLETED,
                "wait_first_exc": cf.FIRST_EXCEPTION}[api]
        r = cf.wait(members, timeout=timeout, return_when=when)
        out = dict(done=names(r.done), not_done=names(r.not_done))
    t.join()
    release()
    for f in (n1, n2, n3):
        if not f.done():
            f.set_result(0)
    ex.shutdown()
    out["second wait"] = names(cf.wait(members, timeout=timeout).done)
    report(**out)
"""

EXPECTED = {
    "wait_all": {"done": ["g0", "g1", "n1", "n2", "n3"], "not_done": []},
    "wait_first": {"done": ["n1"], "not_done": ["g1", "n2"]},
    "wait_first_exc": {"done": ["g0", "n1", "n2"], "not_done": ["g1", "n3"]},
    "as_completed": {"yielded": [["ok", "g0"], ["ok", "g1"], ["ok", "n1"], ["ok", "n2"], ["ok", "n3"]],
                     "last": ["raise", "StopIteration", ""]},
}


@pytest.mark.parametrize("timeout", [None, 60])
@pytest.mark.parametrize("kind", ["thread", "process"])
@pytest.mark.parametrize("api", ["wait_all", "wait_first", "wait_first_exc", "as_completed"])
def test_noisy_foreign_future_counts_once(tmp_path, api, kind, timeout):
    path = script(tmp_path, NOISY)
    args = (kind, json.dumps(timeout))
    quiet_std = observed(path, "stdlib", api, 0, *args)
    members = ["g1", "n1", "n2"] if api == "wait_first" else ["g0", "g1", "n1", "n2", "n3"]
    assert quiet_std == dict(EXPECTED[api], **{"second wait": members})
    assert observed(path, "gofutures", api, 0, *args) == quiet_std
    for repeat in (3, 200):
        assert observed(path, "gofutures", api, repeat, *args) == quiet_std, repeat
    if api == "wait_first":   # the stdlib counts nothing there: its noisy run agrees
        assert observed(path, "stdlib", api, 200, *args) == quiet_std
