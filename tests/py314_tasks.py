"""Task functions for tests/test_py314.py's process pools (importable by
name in spawn and forkserver workers)."""
import os
import time


def wait_for_file(started, release, x):
    """Says it started (creates `started`), then returns x once `release` exists."""
    open(started, "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.01)   # bounded poll: a file is the one signal both sides share
    return x
