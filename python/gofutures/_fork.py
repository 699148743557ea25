"""os.fork() support: the stdlib's implementation in a child forked after
the Go engine was loaded.

The Go runtime's threads do not survive fork(), and a call into Go in the
child may hang for ever. So in a child forked after the engine was loaded
(the first executor, Future, wait() or as_completed() call loads it), no
code path may enter Go again:

  - the C extension marks the child at fork time (pthread_atfork, so every
    fork counts) and from then on refuses, with RuntimeError, every use of a
    gofutures object made before the fork, and frees such objects without
    calling Go (cshim/fork.h);
  - this module, registered with os.register_at_fork, switches the package
    to the stdlib's concurrent.futures in the child: a new
    ThreadPoolExecutor runs as the stdlib's (it is a subclass of it),
    wait/as_completed are the stdlib's, gofutures.Future is
    concurrent.futures.Future, and interpreter exit does not touch the
    parent's pools (their worker threads do not exist in the child);
  - statistics (executor.stats(), gofutures.stats()) raise RuntimeError:
    the stdlib's pools keep none, and reading the parent's would enter Go
    (_stats.py); the gopy module refuses in C, and its wrappers' __del__
    frees nothing in Go (pybind/gopy/regen.py).

A child forked while the engine was not loaded yet is an ordinary process:
it loads Go on its own first use and gets the real engine.
"""
import os
import threading

# True in a process forked after the Go engine was loaded: use the stdlib.
active = False


def _after_in_child():
    global active
    from . import _ext, thread
    # A lock held by another thread at fork time stays held in the child.
    _ext._lock = threading.Lock()
    thread._global_shutdown_lock = threading.Lock()
    if _ext._started:   # loaded, or being loaded by another thread at fork time
        active = True
        thread._pools.clear()   # the parent's pools: nothing of them runs here


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_in_child)
