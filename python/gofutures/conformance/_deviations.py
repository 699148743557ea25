"""The known deviations (deviations.txt) and the verdict on a run.

deviations.txt has one entry a line: `Class.method  versions  reason`, where
versions is `*` or a comma list (`3.9,3.10`) of the CPython versions whose
suite fails that test against gofutures; `#` starts a comment. Only tests
that inspect the stdlib implementation's private attributes belong there; a
test of public behaviour that fails is a bug.

The run fails on a failure not listed, on a listed test that passes (the
list only shrinks) and on an entry naming no test of this version's suite.
"""
import pathlib
import sys

from . import _tally

DEFAULT_FILE = pathlib.Path(__file__).with_name("deviations.txt")


def this_version():
    return "%d.%d" % sys.version_info[:2]


def parse(path=DEFAULT_FILE, version=None):
    """{key: reason} for the entries that apply to `version`."""
    version = version or this_version()
    entries = {}
    for n, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise ValueError("%s:%d: want `Class.method versions reason`" % (path, n))
        key, versions, reason = parts
        if versions == "*" or version in versions.split(","):
            entries[key] = reason
    return entries


def judge(outcomes, known, suite_keys):
    """Returns (known failures {key: reason}, problems [(key, what)])."""
    failing = (_tally.FAIL, _tally.ERROR)
    seen, problems = {}, []
    for key, outcome in outcomes.items():
        if outcome in failing:
            if key in known:
                seen[key] = known[key]
            else:
                problems.append((key, "%s (not a known deviation)" % outcome))
        elif outcome == _tally.PASS and key in known:
            problems.append((key, "passes now: remove it from deviations.txt"))
    for key in sorted(set(known) - suite_keys):
        problems.append((key, "listed in deviations.txt but this suite has no such test"))
    return seen, problems
