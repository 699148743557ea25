"""pytest plugin for the 3.14/3.15 chroot legs (tools/chroot-leg.sh loads it
with -p): marks the tests listed in tools/chroot-known-failures.txt as
expected failures on the versions listed, each with the change it waits for.
`strict` entries fail the run once they pass (remove the line then); `flaky`
ones are timing-dependent there and may pass."""
import pathlib
import sys

import pytest

LIST = pathlib.Path(__file__).with_name("chroot-known-failures.txt")


def _entries():
    version = "%d.%d" % sys.version_info[:2]
    for n, line in enumerate(LIST.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        versions, kind, prefix, reason = line.split(None, 3)
        if kind not in ("strict", "flaky"):
            raise ValueError("%s:%d: kind is strict or flaky, not %r" % (LIST, n, kind))
        if versions == "*" or version in versions.split(","):
            yield prefix, kind == "strict", reason


def pytest_collection_modifyitems(config, items):
    entries = list(_entries())
    for item in items:
        for prefix, strict, reason in entries:
            if item.nodeid.startswith(prefix):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=strict))
                break
