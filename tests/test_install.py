"""install()/uninstall(): what they point concurrent.futures' names at, and
what code importing concurrent.futures after install() gets."""
import concurrent.futures as cf
import concurrent.futures._base as cf_base
import concurrent.futures.thread as cf_thread
import importlib.util

import pytest

import gofutures

HAS_PROCESS = importlib.util.find_spec("gofutures.process") is not None


@pytest.fixture
def installed():
    gofutures.install()
    try:
        yield
    finally:
        gofutures.uninstall()


STDLIB_NAMES = [
    (cf, "ThreadPoolExecutor"), (cf_thread, "ThreadPoolExecutor"),
    (cf, "wait"), (cf_base, "wait"), (cf, "as_completed"), (cf_base, "as_completed"),
]


def test_install_points_the_package_and_submodules_at_gofutures():
    before = [getattr(m, n) for m, n in STDLIB_NAMES]
    gofutures.install()
    try:
        assert cf.ThreadPoolExecutor is cf_thread.ThreadPoolExecutor is gofutures.ThreadPoolExecutor
        assert cf.wait is cf_base.wait is gofutures.wait
        assert cf.as_completed is cf_base.as_completed is gofutures.as_completed
        assert cf.Future is cf_base.Future  # left alone
        assert gofutures.installed()
    finally:
        gofutures.uninstall()
    assert [getattr(m, n) for m, n in STDLIB_NAMES] == before
    assert cf.wait.__module__ == "concurrent.futures._base"
    assert not gofutures.installed()


def test_install_is_idempotent():
    before = [getattr(m, n) for m, n in STDLIB_NAMES]
    gofutures.install()
    gofutures.install()
    gofutures.uninstall()   # one uninstall undoes both
    assert [getattr(m, n) for m, n in STDLIB_NAMES] == before
    gofutures.uninstall()   # and a second one is harmless
    assert [getattr(m, n) for m, n in STDLIB_NAMES] == before


def test_process_pool_follows_gofutures_process(installed):
    import concurrent.futures.process as cf_process
    if HAS_PROCESS:
        from gofutures import process
        assert cf.ProcessPoolExecutor is cf_process.ProcessPoolExecutor is process.ProcessPoolExecutor
    else:
        assert cf.ProcessPoolExecutor is cf_process.ProcessPoolExecutor
        assert cf.ProcessPoolExecutor.__module__ == "concurrent.futures.process"


def test_code_importing_after_install_gets_gofutures(installed):
    from concurrent.futures import ThreadPoolExecutor, as_completed, wait
    with ThreadPoolExecutor(2) as ex:
        fs = [ex.submit(pow, 2, n) for n in range(8)]
        assert all(type(f) is gofutures.Future for f in fs)
        done, not_done = wait(fs)
        assert sorted(f.result() for f in as_completed(fs)) == [2 ** n for n in range(8)]
    assert len(done) == 8 and not not_done
