"""wait() and as_completed() over 100k futures. Each implementation waits on
its own Future class; "pending" futures are completed by a second thread
(set_result) while the main thread waits, so the figure covers installing
waiters, completing and waking."""
import threading
from concurrent.futures import FIRST_COMPLETED

from .runner import Workload, timed

N = 100_000


def _done(impl, n):
    fs = [impl.Future() for _ in range(n)]
    for f in fs:
        f.set_result(1)
    return impl, fs


def _pending(impl, n):
    return impl, [impl.Future() for _ in range(n)]


def _completer(fs):
    """A started thread that completes fs once `go` is set."""
    go = threading.Event()

    def run():
        go.wait()
        for f in fs:
            f.set_result(1)
    t = threading.Thread(target=run)
    t.start()
    return go, t


def _as_completed_done(ctx, n):
    impl, fs = ctx
    return timed(lambda: sum(f.result() for f in impl.as_completed(fs)))


def _as_completed_pending(ctx, n):
    impl, _ = ctx
    fs = [impl.Future() for _ in range(n)]
    fs[0].set_result(1)
    go, t = _completer(fs[1:])

    def run():
        it = impl.as_completed(fs)
        total = next(it).result()   # waiters now installed on the n-1 pending
        go.set()
        total += sum(f.result() for f in it)
        t.join()
        return total
    return timed(run)


def _wait_all_done(ctx, n):
    impl, fs = ctx

    def run():
        done, not_done = impl.wait(fs)
        return len(done), len(not_done)
    return timed(run)


def _wait_all_pending(ctx, n):
    impl, _ = ctx
    fs = [impl.Future() for _ in range(n)]
    go, t = _completer(fs)

    def run():
        go.set()
        done, not_done = impl.wait(fs)
        t.join()
        return len(done), len(not_done)
    return timed(run)


def _wait_first_pending(ctx, n):
    impl, fs = ctx
    last = fs[-1]
    go, t = _completer([last])

    def run():
        go.set()
        done, not_done = impl.wait(fs, return_when=FIRST_COMPLETED)
        t.join()
        return len(done), len(not_done), last in done
    secs, value = timed(run)
    fs[-1] = impl.Future()   # pending again for the next sample
    return secs, value


def workloads():
    kw = dict(group="futures", n=N, quick_n=20_000, per="future")
    return [
        Workload("as_completed_done", "as_completed over 100k done futures",
                 sample=_as_completed_done, expected=lambda n: n, open=_done,
                 target=("ratio<=", 0.2), **kw),
        Workload("as_completed_pending", "as_completed over 100k pending futures",
                 sample=_as_completed_pending, expected=lambda n: n, open=_pending,
                 target=("ratio<=", 0.2),
                 note="one done, then a thread completes the rest while iterating", **kw),
        Workload("wait_all_done", "wait(ALL_COMPLETED) over 100k done futures",
                 sample=_wait_all_done, expected=lambda n: (n, 0), open=_done,
                 target=("ratio<=", 0.2), **kw),
        Workload("wait_all_pending", "wait(ALL_COMPLETED) over 100k pending futures",
                 sample=_wait_all_pending, expected=lambda n: (n, 0), open=_pending,
                 target=("ratio<=", 0.2),
                 note="a thread completes them all as the wait begins", **kw),
        Workload("wait_first_pending", "wait(FIRST_COMPLETED) over 100k pending futures",
                 sample=_wait_first_pending, expected=lambda n: (1, n - 1, True),
                 open=_pending, target=("ratio<=", 0.1),
                 note="a thread completes the last one as the wait begins", **kw),
    ]
