"""The loop of a ProcessPoolExecutor worker process.

Pure Python on purpose: a worker made by fork() inherits the parent's Go
runtime without its threads, and entering Go there would hang. This module
imports nothing of gofutures' engine.

Frames on both pipes are those of core/frame.go: a 17-byte header
(>QBQ: length of kind+id+payload, kind, task id) and the payload. The
worker first sends an empty R for task 0 (ready, after its initializer);
the parent sends T (a pickle of (fn, args, kwargs or None)) and Q (quit);
the worker answers each T with R (a pickle of the result) or E (a pickle of the
exception, which carries its traceback to the parent as the stdlib's
_ExceptionWithTraceback does). With max_worker_memory, an answer sent as r or
e instead is the worker's last: it exits after it (_over_memory).
"""
import os
import select
import signal
import struct
from concurrent.futures import _base
from concurrent.futures.process import _ExceptionWithTraceback
from multiprocessing.reduction import ForkingPickler
from pickle import loads

from . import _forkstreams

_HEADER = struct.Struct(">QBQ")
_HSIZE = _HEADER.size
_T, _Q, _R, _E = ord("T"), ord("Q"), ord("R"), ord("E")
_dumps = ForkingPickler.dumps

# While idle, the worker looks at its parent this often, so that a worker
# whose parent was killed does not outlive it.
_PARENT_CHECK = 1.0


class _Reader:
    """Frames from the task pipe, read in large blocks."""

    __slots__ = ("fd", "buf", "pos", "ppid")

    def __init__(self, fd):
        self.fd = fd
        self.buf = b""
        self.pos = 0
        self.ppid = os.getppid()

    def _fill(self, need):
        # Until len(buf) - pos >= need; False at end of stream.
        chunks = [self.buf[self.pos:]]
        have = len(chunks[0])
        while have < need:
            r, _, _ = select.select([self.fd], [], [], _PARENT_CHECK)
            if not r:
                if os.getppid() != self.ppid:
                    return False  # orphaned: the parent is gone
                continue
            data = os.read(self.fd, max(need - have, 1 << 16))
            if not data:
                return False
            chunks.append(data)
            have += len(data)
        self.buf = b"".join(chunks)
        self.pos = 0
        return True

    def frame(self):
        """(kind, id, payload), or None at the end of the stream."""
        if len(self.buf) - self.pos < _HSIZE and not self._fill(_HSIZE):
            return None
        length, kind, tid = _HEADER.unpack_from(self.buf, self.pos)
        end = self.pos + 8 + length
        if end > len(self.buf):
            if not self._fill(8 + length):
                return None
            end = 8 + length
        payload = memoryview(self.buf)[self.pos + _HSIZE:end]
        self.pos = end
        return kind, tid, payload


def _send(fd, kind, tid, data):
    header = _HEADER.pack(9 + len(data), kind, tid)
    if len(data) < 65536:
        _write_all(fd, header + data)  # one write for a small frame
    else:
        _write_all(fd, header)
        _write_all(fd, data)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _reply(fd, tid, fn, args, kwargs):
    """Runs one call and sends its outcome."""
    kind, data = _outcome(fn, args, kwargs)
    _send(fd, kind, tid, data)


def _outcome(fn, args, kwargs):
    """Runs one call: (frame kind, pickled outcome), as the stdlib's worker
    has it: an exception, or a result that cannot be pickled, is sent as an
    exception with its traceback."""
    try:
        r = fn(*args, **kwargs) if kwargs else fn(*args)
    except BaseException as e:
        exc = _ExceptionWithTraceback(e, e.__traceback__)
        kind, obj = _E, exc
    else:
        kind, obj = _R, r
    try:
        data = _dumps(obj)
    except BaseException as e:
        kind, data = _E, _dumps(_ExceptionWithTraceback(e, e.__traceback__))
    return kind, data


def _on_sigint(signum, frame):
    """A terminal's Ctrl-C reaches the whole process group, this worker too:
    it is the parent's to act on (it ends the pool), so here it neither
    fails the running task nor kills the worker (which would break the
    pool). A Python handler rather than SIG_IGN: exec() resets it, so
    programs a task starts still get SIGINT's default."""


def _over_memory(bound, reader):
    """max_worker_memory: a check, after each task, of whether this
    process's resident set is above bound bytes. Linux's /proc/self/statm
    (resident pages), read with pread on a descriptor kept open, so a check
    costs no open() and no allocation of a file object.
    Not getrusage's ru_maxrss, a peak that never comes down."""
    fd = os.open("/proc/self/statm", os.O_RDONLY)
    page = os.sysconf("SC_PAGE_SIZE")

    def over(pending):
        # What the worker keeps: the call's objects are gone by now; the
        # task frame's buffer goes too, and the pickled outcome about to be
        # sent (pending bytes) does not count.
        if reader.pos == len(reader.buf):
            reader.buf, reader.pos = b"", 0
        return int(os.pread(fd, 64, 0).split()[1]) * page - pending > bound
    return over


def run(task_conn, result_conn, initializer, initargs, close_fds=(), max_memory=None):
    """The worker's main function (the target of its Process)."""
    if close_fds:
        # Made by fork (only a fork worker has the parent's ends to close):
        # first, the standard streams another thread was writing to then.
        _forkstreams.repair()
    # SIGINT arrives blocked (process.py, _spawn_one): a Ctrl-C since the
    # fork is delivered now, to the handler.
    signal.signal(signal.SIGINT, _on_sigint)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT,))
    for fd in close_fds:
        # The parent's ends of our own pipes, inherited through fork: closed,
        # so that the parent's death shows here as the end of the stream.
        try:
            os.close(fd)
        except OSError:
            pass
    if initializer is not None:
        try:
            initializer(*initargs)
        except BaseException:
            _base.LOGGER.critical('Exception in initializer:', exc_info=True)
            # The parent sees this process end and marks the pool broken.
            return
    reader = _Reader(task_conn.fileno())
    wfd = result_conn.fileno()
    # Ready: the parent gives this worker tasks only from now on, as the
    # stdlib's workers take tasks only once started (core/procpool.go,
    # startLoop). A result frame for task 0, which no task has.
    try:
        _send(wfd, _R, 0, b"")
    except OSError:
        return  # the parent is gone (EPIPE): nothing to do
    frame = reader.frame
    over = None if max_memory is None else _over_memory(max_memory, reader)
    while True:
        fr = frame()
        if fr is None or fr[0] == _Q:
            return
        # A task that cannot be unpickled kills the worker, as in the
        # stdlib: the parent then breaks the pool.
        kind, tid, payload = fr
        fn, args, kwargs = loads(payload)
        del fr, payload
        if over is not None:
            kind, data = _outcome(fn, args, kwargs)
            del fn, args, kwargs
            if over(len(data)):
                # Past max_worker_memory: the outcome goes as this worker's
                # last (r/e), whole, and it exits. The parent sends the
                # tasks queued behind it elsewhere and starts a replacement.
                _send(wfd, kind | 0x20, tid, data)
                return
            _send(wfd, kind, tid, data)
            del data
            continue
        _reply(wfd, tid, fn, args, kwargs)
        # Let go of the call's objects before waiting for the next one.
        del fn, args, kwargs
