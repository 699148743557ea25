"""Executor.map(..., buffersize=N) (Python 3.14's, gh-74028) on every
supported version, for both pools: bounded submission over endless input,
results in order, the stdlib's errors for bad values."""
import gc
import itertools
import sys
import time
import tracemalloc
import weakref

import pytest

import gofutures
import proc_tasks as T

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=["thread", "process"])
def ex(request):
    Ex = gofutures.ThreadPoolExecutor if request.param == "thread" else gofutures.ProcessPoolExecutor
    with Ex(2) as e:
        yield e


def counting(it, seen):
    for x in it:
        seen.append(x)
        yield x


def test_endless_input_is_consumed_lazily(ex):
    seen = []
    it = ex.map(T.square, counting(itertools.count(), seen), buffersize=8)
    got = [next(it) for _ in range(200)]
    assert got == [i * i for i in range(200)]
    # At most buffersize submitted and not yet yielded: the input was read
    # only that far ahead (without buffersize, map would never return).
    assert len(seen) <= 200 + 8
    it.close()


def test_memory_stays_bounded_over_an_endless_generator(ex):
    n = 100_000 if isinstance(ex, gofutures.ThreadPoolExecutor) else 10_000
    it = ex.map(T.identity, itertools.count(), buffersize=16)
    for _ in range(500):        # warm: pools, workers, free lists
        next(it)
    tracemalloc.start()
    try:
        for i in range(500, 500 + n):
            assert next(it) == i
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    it.close()
    # Python-side: no future, argument or result kept per item (an unbounded
    # map would hold n futures: tens of megabytes). Go-side: the queue never
    # held more than the buffer.
    assert peak < 256 * 1024, peak
    assert ex.stats().queue_high_water <= 16 + 1


def test_input_read_one_item_per_result():
    with gofutures.ThreadPoolExecutor(1) as ex:
        seen = []
        it = ex.map(T.identity, counting(itertools.count(), seen), buffersize=5)
        assert len(seen) == 5           # the buffer is filled by map() itself
        assert next(it) == 0 and len(seen) == 6
        assert next(it) == 1 and len(seen) == 7
        it.close()


def test_several_endless_inputs_and_none():
    with gofutures.ThreadPoolExecutor(2) as ex:
        it = ex.map(pow, itertools.count(2), itertools.count(), buffersize=3)
        assert [next(it) for _ in range(4)] == [1, 3, 16, 125]
        it.close()
        assert list(ex.map(T.square, buffersize=2)) == []


def test_the_iterator_does_not_keep_the_executor_alive():
    seen = []
    ex = gofutures.ThreadPoolExecutor(2)
    ref = weakref.ref(ex)
    it = ex.map(T.identity, counting(itertools.count(), seen), buffersize=3)
    ex.shutdown(wait=True)
    del ex
    gc.collect()
    assert ref() is None
    # What was submitted is still yielded; nothing more is read or submitted.
    assert list(it) == [0, 1, 2] and seen == [0, 1, 2]


def test_chunks_count_against_buffersize():
    with gofutures.ProcessPoolExecutor(2) as ex:
        seen = []
        it = ex.map(T.square, counting(itertools.count(), seen), chunksize=10, buffersize=3)
        assert [next(it) for _ in range(55)] == [i * i for i in range(55)]
        assert len(seen) <= 60 + 3 * 10
        it.close()


def test_same_results_as_plain_map(ex):
    assert list(ex.map(T.add, range(50), range(50), buffersize=4)) == list(ex.map(T.add, range(50), range(50)))
    assert list(ex.map(T.square, [], buffersize=1)) == []


def test_exception_at_its_position_and_the_rest_cancelled(ex):
    it = ex.map(T.square, [1, 2, "x", 4, 5], buffersize=2)
    assert next(it) == 1 and next(it) == 4
    with pytest.raises(TypeError):
        next(it)
    with pytest.raises(StopIteration):
        next(it)


@pytest.mark.parametrize("bad,exc,msg", [
    (0, ValueError, "buffersize must be None or > 0"),
    (-1, ValueError, "buffersize must be None or > 0"),
    (2.0, TypeError, "buffersize must be an integer or None"),
    ("3", TypeError, "buffersize must be an integer or None"),
])
def test_bad_buffersize(ex, bad, exc, msg):
    with pytest.raises(exc, match=msg):
        ex.map(T.square, [1], buffersize=bad)


def test_timeout_counts_from_the_call(ex):
    it = ex.map(T.sleep_then, [1, 2, 3], [0.0, 3.0, 0.0], timeout=0.5, buffersize=1)
    assert next(it) == 1
    with pytest.raises(gofutures.TimeoutError):
        next(it)


def test_shutdown_cancels_what_was_submitted_but_not_run():
    ex = gofutures.ThreadPoolExecutor(1)
    it = ex.map(T.sleep_then, range(100), [0.05] * 100, buffersize=5)
    assert next(it) == 0
    ex.shutdown(wait=True, cancel_futures=True)
    rest = []
    with pytest.raises((gofutures.CancelledError, RuntimeError)):
        for v in it:
            rest.append(v)
    assert len(rest) <= 5


@pytest.mark.skipif(sys.version_info < (3, 14), reason="the stdlib has buffersize from 3.14")
def test_matches_the_stdlib():  # pragma: no cover - no 3.14 here
    import concurrent.futures as cf
    with cf.ThreadPoolExecutor(2) as a, gofutures.ThreadPoolExecutor(2) as b:
        assert list(a.map(abs, range(-5, 5), buffersize=2)) == list(b.map(abs, range(-5, 5), buffersize=2))


def test_a_buffersize_beyond_sys_maxsize_is_refused_as_3_14_does():
    with gofutures.ThreadPoolExecutor(1) as ex:
        with pytest.raises(ValueError, match="must be None or an integer"):
            ex.map(T.square, [1], buffersize=sys.maxsize + 1)


def test_reentering_the_iterator_is_refused_as_a_generator_does():
    # The input's own next() calls next() on the map iterator: the stdlib's
    # generator refuses with ValueError; so must the C iterator (it used to
    # crash, its buffer being changed under it).
    with gofutures.ThreadPoolExecutor(1) as ex:
        box = []

        def sneaky():
            yield 1
            yield next(box[0])
        it = ex.map(T.identity, sneaky(), buffersize=1)
        box.append(it)
        with pytest.raises(ValueError, match="already executing"):
            next(it)   # its refill reads the input, which re-enters it


def test_close_from_another_thread_while_next_waits_for_room():
    # next() refills through submit(), which waits for room (max_pending):
    # close() from another thread meanwhile is refused, as for a generator,
    # and the iterator finishes normally.
    import threading
    with gofutures.ThreadPoolExecutor(1, max_pending=2) as ex:
        it = ex.map(T.sleep_then, range(6), [0.3] * 6, buffersize=2)
        errors, got = [], []
        t = threading.Thread(target=lambda: got.append(next(it)))
        t.start()
        time.sleep(0.1)
        try:
            it.close()
        except ValueError as e:
            errors.append(str(e))
        t.join(30)
        assert got == [0] and errors == ["generator already executing"]
        assert list(it) == [1, 2, 3, 4, 5]


def test_the_timed_out_call_is_cancelled_when_the_input_fits_the_buffer():
    # With buffersize, the future whose wait timed out is cancelled (3.14),
    # on every version, also when the whole input was submitted up front.
    with gofutures.ThreadPoolExecutor(1) as ex:
        gate = ex.submit(T.sleep_then, 0, 0.5)      # keeps the worker busy
        ran = []
        it = ex.map(ran.append, [1, 2], timeout=0.05, buffersize=5)
        with pytest.raises(gofutures.TimeoutError):
            next(it)
        gate.result()
        ex.shutdown(wait=True)
        assert ran == []
