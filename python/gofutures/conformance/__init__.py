"""CPython's own concurrent.futures test suite, run against gofutures.

`python -m gofutures.conformance` imports `test.test_concurrent_futures`
from the running interpreter's installation after gofutures.install(), runs
it, prints per-class counts and judges every outcome against the known
deviations listed in deviations.txt (see _deviations.py). The suite's code
is never copied here: where the interpreter does not ship it, the runner
says so and exits 0.
"""
from ._cli import main

__all__ = ("main",)
