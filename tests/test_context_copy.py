"""ThreadPoolExecutor(context="copy") (issue 18, context propagation): each
task runs in its own copy of the contextvars context of the submit()/map()
call that made it. The default (context=None) is the stdlib's behaviour,
checked against it."""
import concurrent.futures as cf
import contextvars
import decimal
import gc
import os
import subprocess
import sys
import textwrap
import threading
import weakref

import pytest

import gofutures

pytestmark = pytest.mark.timeout(120)

var = contextvars.ContextVar("var", default="unset")
inner = contextvars.ContextVar("inner", default="unset")


def set_inner(value):
    inner.set(value)
    var.set(value)
    return value


def read():
    return var.get(), inner.get()


def copy_pool(n=1, **kw):
    return gofutures.ThreadPoolExecutor(n, context="copy", **kw)


def in_fresh_context(fn, *args):
    """fn(*args) in a new empty context: what it sets does not stay in the
    test's own context (so its values can be freed)."""
    return contextvars.Context().run(fn, *args)


def occupy(ex):
    """Holds ex's only worker until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def hold():
        started.set()
        release.wait(60)
    f = ex.submit(hold)
    assert started.wait(60)
    return f, release


# -- what a task sees ---------------------------------------------------------

def test_a_task_sees_the_values_of_its_submitter():
    def scenario():
        var.set("request-42")
        with copy_pool(2) as ex:
            return ex.submit(read).result(timeout=30)
    assert in_fresh_context(scenario) == ("request-42", "unset")


def test_the_context_is_taken_at_submit_not_when_the_task_runs():
    def scenario():
        with copy_pool(1) as ex:
            _, release = occupy(ex)
            var.set("at submit")
            f = ex.submit(read)
            var.set("later")
            release.set()
            return f.result(timeout=30)
    assert in_fresh_context(scenario) == ("at submit", "unset")


def test_changes_inside_a_task_leak_neither_to_the_caller_nor_to_other_tasks():
    def scenario():
        var.set("caller")
        with copy_pool(1) as ex:   # one worker: both tasks run on the same thread
            assert ex.submit(set_inner, "task").result(timeout=30) == "task"
            after = ex.submit(read).result(timeout=30)
        return after, read()
    assert in_fresh_context(scenario) == (("caller", "unset"), ("caller", "unset"))


def test_errors_and_base_exceptions_of_a_task_still_reach_its_future():
    class Stop(BaseException):
        pass

    def boom(exc):
        var.set("x")
        raise exc
    with copy_pool(1) as ex:
        with pytest.raises(ZeroDivisionError):
            ex.submit(boom, ZeroDivisionError()).result(timeout=30)
        with pytest.raises(Stop):
            ex.submit(boom, Stop()).result(timeout=30)
        assert ex.submit(read).result(timeout=30) == ("unset", "unset")
    assert var.get() == "unset"


def test_done_callbacks_run_outside_the_tasks_context():
    # As with the stdlib and a ctx.run wrapper: the callback is not the task.
    seen = []
    done = threading.Event()
    with copy_pool(1) as ex:
        _, release = occupy(ex)
        f = ex.submit(set_inner, "task")
        f.add_done_callback(lambda _: (seen.append(inner.get()), done.set()))
        release.set()
        assert done.wait(30)
    assert seen == ["unset"]


def test_several_submitting_threads_each_with_their_own_values():
    n_threads, per_thread = 6, 200
    results = {}
    go = threading.Barrier(n_threads, timeout=30)
    with copy_pool(3) as ex:   # shared by every submitter
        def submitter(k):
            var.set("thread-%d" % k)
            go.wait()
            fs = [ex.submit(set_inner if i % 2 else read,
                            *(("t%d-%d" % (k, i),) if i % 2 else ())) for i in range(per_thread)]
            results[k] = [f.result(timeout=60) for f in fs]
            results[k, "after"] = read()
        ts = [threading.Thread(target=submitter, args=(k,)) for k in range(n_threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
    for k in range(n_threads):
        for i, r in enumerate(results[k]):
            assert r == ("t%d-%d" % (k, i) if i % 2 else ("thread-%d" % k, "unset"))
        assert results[k, "after"] == ("thread-%d" % k, "unset")


def test_the_decimal_context_of_the_caller():
    def divide():
        q = str(decimal.Decimal(1) / decimal.Decimal(7))
        # The copy is shallow (as asyncio's): the decimal context object is
        # the caller's; localcontext() gives the task its own, in its copy.
        with decimal.localcontext() as mine:
            mine.prec = 2
            return q, str(decimal.Decimal(1) / decimal.Decimal(7))
    with copy_pool(1) as ex:
        with decimal.localcontext() as c:
            c.prec = 5
            got = ex.submit(divide).result(timeout=30)
            assert decimal.getcontext().prec == 5
            again = ex.submit(divide).result(timeout=30)
        plain = ex.submit(divide).result(timeout=30)
    assert got == again == ("0.14286", "0.14")
    assert plain == (str(decimal.Decimal(1) / decimal.Decimal(7)), "0.14")


def test_run_in_executor_carries_the_asyncio_tasks_context():
    # What asyncio.to_thread does by hand (ctx.run), for any executor call.
    import asyncio

    async def handler(k, ex):
        var.set("request-%d" % k)
        await asyncio.sleep(0)
        return await asyncio.get_running_loop().run_in_executor(ex, read)

    async def main(ex):
        return await asyncio.gather(*(handler(k, ex) for k in range(5)))
    with copy_pool(2) as ex:
        got = asyncio.run(main(ex))
    assert got == [("request-%d" % k, "unset") for k in range(5)]


# -- map ----------------------------------------------------------------------

@pytest.mark.parametrize("buffersize", [None, 1, 4])
def test_map_runs_each_call_in_a_copy_of_the_map_callers_context(buffersize):
    kw = {} if buffersize is None else {"buffersize": buffersize}

    def call(i):
        before = read()
        set_inner("call-%d" % i)
        return before

    def scenario():
        var.set("map-time")
        with copy_pool(2) as ex:
            it = ex.map(call, range(40), **kw)
            # With buffersize the later calls are submitted from next(): they
            # still get the context of the map() call, not the iterator's.
            var.set("iterating")
            out = list(it)
        return out, read()
    out, after = in_fresh_context(scenario)
    assert out == [("map-time", "unset")] * 40
    assert after == ("iterating", "unset")


def test_a_buffered_map_with_copy_still_reads_its_input_lazily():
    pulled = []

    def source():
        for i in range(100):
            pulled.append(i)
            yield i
    with copy_pool(2) as ex:
        it = ex.map(abs, source(), buffersize=3)
        assert len(pulled) == 3
        assert next(it) == 0 and len(pulled) == 4
        it.close()


def test_a_buffered_map_iterated_from_another_thread_keeps_the_map_context():
    def scenario():
        var.set("map-time")
        with copy_pool(2) as ex:
            it = ex.map(lambda _: read(), range(20), buffersize=2)
            box = []
            t = threading.Thread(target=lambda: box.extend(it))
            t.start()
            t.join(60)
        return box
    assert in_fresh_context(scenario) == [("map-time", "unset")] * 20


# -- every path gives the copy back --------------------------------------------

class Marker:
    pass


def submit_marked(ex, n, fn=read):
    """n submits, each in a context whose var holds its own Marker, held by
    nothing else once the calling context is gone. Weak references to them."""
    def go():
        refs, fs = [], []
        for _ in range(n):
            m = Marker()
            refs.append(weakref.ref(m))
            var.set(m)
            del m
            fs.append(ex.submit(fn))
        return refs, fs
    return in_fresh_context(go)


def held_pool_with_marked(n):
    """A 1-worker copy pool held by occupy() with n submit_marked() tasks
    queued behind: (ex, release, refs, fs). Nothing else keeps ex."""
    ex = copy_pool(1)
    _, release = occupy(ex)
    refs, fs = submit_marked(ex, n)
    return ex, release, refs, fs


def alive(refs):
    gc.collect()
    return sum(r() is not None for r in refs)


def test_a_run_task_releases_its_context():
    with copy_pool(2) as ex:
        refs, fs = submit_marked(ex, 50)
        assert {type(f.result(timeout=30)[0]) for f in fs} == {Marker}
    del fs
    assert alive(refs) == 0


def test_a_task_cancelled_before_it_ran_releases_its_context():
    with copy_pool(1) as ex:
        _, release = occupy(ex)
        refs, fs = submit_marked(ex, 50)
        assert all(f.cancel() for f in fs)
        release.set()
    del fs
    assert alive(refs) == 0


def test_shutdown_cancel_futures_releases_the_contexts():
    ex, release, refs, fs = held_pool_with_marked(50)
    ex.shutdown(wait=False, cancel_futures=True)
    assert all(f.cancelled() for f in fs)
    assert alive(refs) == 0   # at once, while the worker still runs its task
    release.set()
    ex.shutdown(wait=True)


def test_a_failed_submit_releases_its_context():
    ex = copy_pool(1)
    ex.shutdown()

    def go():
        m = Marker()
        var.set(m)
        with pytest.raises(RuntimeError):
            ex.submit(read)
        return weakref.ref(m)
    ref = in_fresh_context(go)
    assert alive([ref]) == 0


def test_a_broken_pool_releases_the_queued_contexts():
    started, fail = threading.Event(), threading.Event()

    def init():
        started.set()
        fail.wait(60)
        raise RuntimeError("initializer fails")
    ex = copy_pool(1, initializer=init)
    refs, fs = submit_marked(ex, 20)
    assert started.wait(60)
    fail.set()
    for f in fs:
        with pytest.raises(cf.thread.BrokenThreadPool):
            f.result(timeout=30)
    ex.shutdown()
    del fs
    assert alive(refs) == 0


def test_an_executor_dropped_with_queued_tasks_releases_them():
    ex, release, refs, fs = held_pool_with_marked(20)
    threads = list(ex._threads)
    del ex       # the queue drains (the tasks run), then the workers exit
    release.set()
    for t in threads:
        t.join(60)
    assert all(f.done() for f in fs)
    del fs
    assert alive(refs) == 0


def test_a_buffered_map_releases_the_map_context():
    with copy_pool(2) as ex:
        def go():
            m = Marker()
            var.set(m)
            it = ex.map(lambda _: type(var.get()), range(10), buffersize=2)
            return weakref.ref(m), it
        ref, it = in_fresh_context(go)
        assert next(it) is Marker
        it.close()   # input left: the iterator held the map's context until now
        del it
    assert alive([ref]) == 0


# -- the default is the stdlib's ------------------------------------------------

def default_scenario(Pool, **kw):
    """What a task sees of the caller's context, and of an earlier task's
    changes on the same worker thread, without context copying."""
    def go():
        var.set("caller")
        with Pool(1, **kw) as ex:
            first = ex.submit(read).result(timeout=30)
            ex.submit(set_inner, "task").result(timeout=30)
            second = ex.submit(read).result(timeout=30)
            mapped = list(ex.map(lambda _: read(), range(3)))
        return first, second, mapped, read()
    return in_fresh_context(go)


@pytest.mark.parametrize("kw", [{}, {"context": None}])
def test_the_default_is_the_stdlibs_behaviour(kw):
    std = default_scenario(cf.ThreadPoolExecutor)
    assert default_scenario(gofutures.ThreadPoolExecutor, **kw) == std
    # The stdlib's: a worker thread has its own context, which tasks share.
    assert std[1] == ("task", "task") and std[3] == ("caller", "unset")


def test_copy_differs_from_the_default_exactly_where_it_should():
    first, second, mapped, after = default_scenario(gofutures.ThreadPoolExecutor,
                                                    context="copy")
    assert first == second == ("caller", "unset")
    assert mapped == [("caller", "unset")] * 3 and after == ("caller", "unset")


# -- bad input and other pools ---------------------------------------------------

@pytest.mark.parametrize("bad", ["inherit", "", "COPY", "copy "])
def test_an_unknown_context_mode_is_a_value_error(bad):
    with pytest.raises(ValueError, match="context must be None or 'copy'"):
        gofutures.ThreadPoolExecutor(1, context=bad)


@pytest.mark.parametrize("bad", [True, 1, b"copy", contextvars.copy_context()])
def test_a_context_that_is_not_a_string_is_a_type_error(bad):
    with pytest.raises(TypeError, match="context must be None or 'copy'"):
        gofutures.ThreadPoolExecutor(1, context=bad)


def test_process_pools_do_not_take_a_context():
    # A process task cannot share the caller's contextvars (values need not
    # pickle, and changes could never come back): not accepted.
    with pytest.raises(TypeError, match="context"):
        gofutures.ProcessPoolExecutor(1, context="copy")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_after_the_engine_loaded_still_copies():
    # The child's pool is the stdlib's (the fork fallback): same semantics.
    code = textwrap.dedent("""
        import contextvars, os, sys, gofutures
        var = contextvars.ContextVar("var", default="unset")
        with gofutures.ThreadPoolExecutor(1) as ex:
            ex.submit(abs, 1).result()
        pid = os.fork()
        if pid == 0:
            var.set("child")
            with gofutures.ThreadPoolExecutor(1, context="copy") as ex:
                assert ex._core is None
                a = ex.submit(var.get).result(timeout=30)
                ex.submit(var.set, "task").result(timeout=30)
                b = ex.submit(var.get).result(timeout=30)
                c = list(ex.map(lambda _: var.get(), range(3), buffersize=1))
            os._exit(0 if (a, b, c) == ("child", "child", ["child"] * 3) else 1)
        _, st = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(st))
        """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(sys.version_info < (3, 14), reason="-X thread_inherit_context is 3.14's")
def test_with_thread_inherit_context_the_per_task_copy_wins():
    code = textwrap.dedent("""
        import contextvars, threading, gofutures
        var = contextvars.ContextVar("var", default="unset")
        var.set("first submitter")
        with gofutures.ThreadPoolExecutor(1, context="copy") as ex:
            a = ex.submit(var.get).result(timeout=30)   # starts the worker, which inherits
            box = []
            def other():
                var.set("other")
                box.append(ex.submit(var.get).result(timeout=30))
            t = threading.Thread(target=other); t.start(); t.join()
            var.set("later")
            b = ex.submit(var.get).result(timeout=30)
        print(a, box[0], b, sep="|")
        """)
    r = subprocess.run([sys.executable, "-X", "thread_inherit_context=1", "-c", code],
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "first submitter|other|later"
