"""Ctrl-C and gofutures' additions (issue 9): a real SIGINT interrupts the
blocking calls each addition brings, and the pool is usable and shuts down
cleanly afterwards. gofutures only (the stdlib before 3.14 has none of
them); the scenarios reuse the robustness prelude (block_task/release)."""
import pytest

from _scenarios import POOL_KINDS, script
from test_sigint import SCENARIO, interrupt

pytestmark = pytest.mark.timeout(90)

CASES = {
    # map(buffersize=) over an endless input, blocked on its first result.
    "map_buffersize": dict(
        pools=POOL_KINDS, opts="",
        setup="import itertools; it = ex.map(block_task, itertools.count(), buffersize=4)",
        # The interrupt ends the iterator (as it ends the stdlib's generator,
        # cancelling what it had submitted); the pool maps on.
        call="list(it)", after="first = list(ex.map(block_task, range(3), buffersize=2))",
        results="first"),
    # submit() blocked by backpressure.
    "max_pending": dict(
        pools=POOL_KINDS, opts=", max_pending=2",
        setup="fs = [ex.submit(block_task, i) for i in range(2)]",
        call="ex.submit(block_task, 2)", after="", results="[f.result() for f in fs]"),
    # result() of a call with a per-task timeout, which has not passed.
    "task_timeout": dict(
        pools=["process"], opts="",
        setup="f = ex.submit_with_timeout(300, block_task, 7)",
        call="f.result()", after="", results="[f.result()]"),
}

EXPECTED = {"map_buffersize": "results [0, 1, 2]", "max_pending": "results [0, 1]",
            "task_timeout": "results [7]"}


@pytest.mark.parametrize("case,pool", [(case, pool) for case in sorted(CASES)
                                       for pool in CASES[case]["pools"]])
def test_sigint_interrupts_the_additions_blocking_calls(tmp_path, case, pool):
    c = CASES[case]
    path = script(tmp_path, SCENARIO.format(**{k: c[k] for k in ("opts", "setup", "call",
                                                                 "after", "results")}))
    rc, lines, err = interrupt(path, "gofutures", pool)
    assert "returned" not in lines
    assert rc == 0, err
    assert err == ""
    assert lines[-1] == EXPECTED[case]
