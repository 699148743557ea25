"""A fork worker's standard streams, made usable again.

fork() copies only the calling thread. If another thread of the parent was
inside a write to sys.stdout or sys.stderr at that moment (a done-callback's
print, or the traceback a pool's service thread logs for a callback that
raised, or any thread's logging), the child's copy of that stream's buffer
lock is held by a thread that does not exist there. The child's writes to
it, and multiprocessing's flush of both streams when the worker ends, would
then wait for ever (measured from CPython 3.14 on; 3.11's child finds the
lock free), and so would the parent's shutdown(wait=True). (What multiprocessing itself does in the child
before the worker's code runs, such as closing stdin, is out of reach here.)

The stdlib's fork workers have the same hazard. gofutures widens its window:
a result reaches the caller straight from Go while the pool's service thread
may still be running the done-callbacks of an earlier one, so the caller can
start a new pool (and fork) while a callback writes. So a worker made by
fork checks each standard stream once, before it runs anything, and replaces
a stuck one with a new stream on the same file descriptor (the orphaned
buffer held the parent's output, which is the parent's to write).

Pure Python, as the rest of the worker (_worker.py).
"""
import io
import sys
import threading

# How long a zero-length write may take before its stream counts as stuck.
# A write that merely runs late on a loaded machine makes the worker replace
# a stream that was fine: harmless (same descriptor; what the parent left
# unflushed in the copy is not written twice).
_PROBE = 0.5

# Replaced streams are kept, never flushed, closed or freed: each of those
# would take the orphaned lock.
_orphans = []

_NAMES = ("stdout", "stderr", "__stdout__", "__stderr__")


def _touch(buf, reentrant):
    try:
        buf.write(b"")
    except RuntimeError:
        # "reentrant call": the lock's owner is this thread's id. It is the
        # dead writer's: a new thread often gets the stack, and the id, of
        # the parent's newest one.
        reentrant.append(True)
    except BaseException:
        pass   # (a closed stream, say: not stuck, and nothing to report)


def _stuck(stream):
    """Whether stream's buffer lock is held (by a thread fork left behind):
    a zero-length write, which only takes the lock, does not return."""
    buf = getattr(stream, "buffer", None)
    if not isinstance(stream, io.TextIOWrapper) or not isinstance(
            buf, (io.BufferedWriter, io.BufferedRandom)) or stream.closed:
        return False   # not a stream this module knows how to remake
    reentrant = []
    probe = threading.Thread(target=_touch, args=(buf, reentrant), daemon=True)
    try:
        probe.start()
    except RuntimeError:
        return False   # no thread to spare: leave the stream as it is
    probe.join(_PROBE)
    return probe.is_alive() or bool(reentrant)   # (alive: it waits for ever, never joined)


def _remake(stream):
    """A new text stream on stream's descriptor, with its settings. Reads only
    attributes that do not take the buffer's lock."""
    raw = io.FileIO(stream.buffer.raw.fileno(), "w", closefd=False)
    return io.TextIOWrapper(io.BufferedWriter(raw), encoding=stream.encoding,
                            errors=stream.errors, line_buffering=stream.line_buffering,
                            write_through=stream.write_through)


def repair():
    """Replaces every stuck standard stream of this (just forked) process,
    in sys and in logging's stream handlers."""
    fresh, seen = {}, set()
    for name in _NAMES:
        old = getattr(sys, name, None)
        if old is None or id(old) in seen:
            continue
        seen.add(id(old))
        if _stuck(old):
            try:
                new = _remake(old)
            except (OSError, ValueError, AttributeError):
                continue   # (its descriptor is gone, say): left as it is
            _orphans.append(old)
            fresh[id(old)] = new
    if not fresh:
        return
    for name in _NAMES:
        old = getattr(sys, name, None)
        if old is not None and id(old) in fresh:
            setattr(sys, name, fresh[id(old)])
    logging = sys.modules.get("logging")
    for ref in getattr(logging, "_handlerList", ()):
        h = ref()
        if isinstance(h, logging.StreamHandler) and id(h.stream) in fresh:
            h.stream = fresh[id(h.stream)]   # (not setStream: it flushes the old one)
