"""A unittest result that records one outcome per test (Class.method)."""
import faulthandler
import gc
import sys
import unittest

from . import _suite

PASS, FAIL, ERROR, SKIP = "passed", "failed", "errors", "skipped"
OUTCOMES = (PASS, FAIL, ERROR, SKIP)


class Tally(unittest.TextTestResult):
    """Keeps, per test key, its outcome, class and the traceback of a
    failure; a hung test dumps every thread's stack and ends the process
    after `timeout` seconds (the suite has no timeout of its own outside
    regrtest)."""

    def __init__(self, stream, verbosity, timeout):
        super().__init__(stream, True, verbosity)
        self.timeout = timeout
        self.outcome = {}     # key -> outcome
        self.klass = {}       # key -> class name
        self.trace = {}       # key -> formatted traceback

    def _record(self, test, outcome, err=None):
        k = _suite.key(test)
        self.klass[k] = _suite.class_name(test)
        # A test with a failing subtest stays failed whatever comes after.
        if self.outcome.get(k) in (FAIL, ERROR) and outcome == PASS:
            return
        self.outcome[k] = outcome
        if err is not None:
            self.trace[k] = self._exc_info_to_string(err, test)

    def startTest(self, test):
        super().startTest(test)
        if self.timeout:
            faulthandler.dump_traceback_later(self.timeout, exit=True, file=sys.__stderr__)

    def stopTest(self, test):
        super().stopTest(test)
        # An executor a failed test left behind lives in a reference cycle
        # (its traceback): collect it now, so that it shuts down before the
        # module's teardown, which waits for every worker process to end.
        gc.collect()
        if self.timeout:
            # Also bounds what runs between tests (class and module
            # teardowns); the next startTest re-arms it, the CLI cancels it.
            faulthandler.dump_traceback_later(self.timeout, exit=True, file=sys.__stderr__)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, PASS)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, FAIL, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, ERROR, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, SKIP)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._record(test, PASS)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._record(test, FAIL)
        self.trace[_suite.key(test)] = "unexpected success\n"

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self._record(test, FAIL if failed else ERROR, err)

    def per_class(self):
        """{class name: {outcome: count}}, classes in the order they ran."""
        counts = {}
        for k, outcome in self.outcome.items():
            c = counts.setdefault(self.klass[k], dict.fromkeys(OUTCOMES, 0))
            c[outcome] += 1
        return counts
