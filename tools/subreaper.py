"""Runs a command as a child subreaper (PR_SET_CHILD_SUBREAPER) that reaps
every orphan promptly, as an init would; exits with the command's status.

tools/run-in-chroot.sh runs each command under it: from 3.14 the stdlib's
process pools default to forkserver, whose workers outlive the forkserver by
moments at interpreter exit and are reparented; a container whose PID 1 does
not reap leaves them as zombies, which the robustness tests count as
processes left behind. Linux only; stdlib only.
"""
import ctypes
import os
import signal
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36


def main(argv):
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("subreaper: prctl failed: %s" % os.strerror(ctypes.get_errno()), file=sys.stderr)
    child = subprocess.Popen(argv)
    # Pass SIGINT/SIGTERM on to the command; orphans are reaped below.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, _f: child.send_signal(s))
    status = None
    while True:
        try:
            pid, st = os.waitpid(-1, 0)
        except ChildProcessError:   # no child left
            break
        except InterruptedError:
            continue
        if pid == child.pid:
            status = os.waitstatus_to_exitcode(st)
            break   # orphans still running when the command ends are its own business
    return 128 - status if status is not None and status < 0 else (status or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
