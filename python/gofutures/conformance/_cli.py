"""python -m gofutures.conformance [--select all|threads|processes] [--future stdlib|gofutures]
                                  [-k PATTERN] [-v]

Exit status: 0 when every failure is a known deviation and no known
deviation passes (or when this interpreter has no suite), 1 otherwise.
"""
import faulthandler
import argparse
import io
import platform
import sys
import time
import unittest

from . import _deviations, _suite, _tally


def _args(argv):
    p = argparse.ArgumentParser(
        prog="python -m gofutures.conformance",
        description="Run CPython's test.test_concurrent_futures against gofutures.")
    p.add_argument("--select", choices=_suite.SELECTIONS, default="all",
                   help="threads: the classes not built on the suite's ProcessPool mixins "
                        "(Future, wait, as_completed, ThreadPoolExecutor); processes: those "
                        "built on them; all (default): both")
    p.add_argument("--future", choices=_suite.FUTURES, default="stdlib",
                   help="the Future class the suite's own Future() calls make: stdlib "
                        "(default; install() leaves concurrent.futures.Future alone) or "
                        "gofutures (runs its Future tests on gofutures.Future)")
    p.add_argument("-k", dest="patterns", action="append", default=[], metavar="PATTERN",
                   help="only tests whose Class.method matches this glob (repeatable)")
    p.add_argument("-v", "--verbose", action="store_true", help="one line per test")
    p.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                   help="a test running longer dumps all stacks and ends the run (default 300)")
    p.add_argument("--deviations", default=str(_deviations.DEFAULT_FILE), metavar="FILE",
                   help="the known-deviation list (default: the packaged deviations.txt)")
    return p.parse_args(argv)


def _what_runs():
    import concurrent.futures as cf
    names = ("ThreadPoolExecutor", "ProcessPoolExecutor", "wait", "as_completed")
    return ", ".join("%s=%s" % (n, "gofutures" if getattr(cf, n).__module__.startswith("gofutures")
                                else "stdlib") for n in names)


def main(argv=None):
    args = _args(argv)
    version = "%s %s" % (platform.python_implementation(), platform.python_version())
    if _suite.find() is None:
        print("conformance: SKIPPED: %s does not ship %s (no test suite in this "
              "installation); nothing to run" % (version, _suite.SUITE))
        return 0

    known = _deviations.parse(args.deviations)
    _suite.point_at_gofutures()
    suite, suite_keys = _suite.load(args.select, args.patterns, args.future)
    print("conformance: %s, %s, select=%s; %s, the suite's Future=%s" % (
        version, _suite.SUITE, args.select, _what_runs(), args.future))
    sys.stdout.flush()

    from test import support
    support.verbose = int(args.verbose)  # 1 outside regrtest: timings on stdout
    stream = unittest.runner._WritelnDecorator(sys.stderr if args.verbose else io.StringIO())
    result = _tally.Tally(stream, 2 if args.verbose else 0, args.timeout)
    t0 = time.monotonic()
    suite.run(result)
    faulthandler.cancel_dump_traceback_later()
    elapsed = time.monotonic() - t0

    seen, problems = _deviations.judge(result.outcome, known, suite_keys)
    _report(result, seen, problems, version, "select=%s future=%s" % (args.select, args.future),
            elapsed)
    return 1 if problems else 0


def _report(result, seen, problems, version, mode, elapsed):
    counts = result.per_class()
    width = max([len(c) for c in counts] + [5])
    total = dict.fromkeys(_tally.OUTCOMES, 0)
    for cls, c in counts.items():
        print("  %-*s  %s" % (width, cls, "  ".join("%s %3d" % (o, c[o]) for o in _tally.OUTCOMES)))
        for o in _tally.OUTCOMES:
            total[o] += c[o]
    for key, reason in sorted(seen.items()):
        print("known deviation: %s: %s" % (key, reason))
    for key, what in problems:
        print("FAIL: %s: %s" % (key, what))
        if key in result.trace:
            print("    " + result.trace[key].rstrip().replace("\n", "\n    "))
    verdict = "FAILED (%d unexpected)" % len(problems) if problems else "OK"
    print("TOTAL %s %s: %d tests: %s; %d known deviations; %.0fs; %s" % (
        version, mode, sum(total.values()),
        ", ".join("%d %s" % (total[o], o) for o in _tally.OUTCOMES),
        len(seen), elapsed, verdict))
