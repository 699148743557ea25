package core

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The si_code values of a SIGCHLD siginfo (<signal.h>).
const (
	cldExited = 1
	cldKilled = 2
	cldDumped = 3
)

// exitInfo describes how the child process pid ended ("exit code 3",
// "signal SIGKILL"), waiting up to wait for it to end, without reaping it:
// multiprocessing joins the process itself (waitid with WNOWAIT leaves the
// zombie to it). It returns "" if pid is not a child of this process (the
// forkserver start method) or did not end in time.
func exitInfo(pid int, wait time.Duration) string {
	if pid <= 0 {
		return ""
	}
	deadline := time.Now().Add(wait)
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT|unix.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return ""
		}
		// The SIGCHLD part of the siginfo union follows the 16-byte header:
		// si_pid (int32), si_uid (uint32), si_status (int32).
		u := (*[3]int32)(unsafe.Pointer(uintptr(unsafe.Pointer(&info)) + 16))
		if u[0] == int32(pid) {
			switch info.Code {
			case cldExited:
				return fmt.Sprintf("exit code %d", u[2])
			case cldKilled, cldDumped:
				return "signal " + unix.SignalName(syscall.Signal(u[2]))
			}
			return ""
		}
		if time.Now().After(deadline) {
			return ""
		}
		time.Sleep(2 * time.Millisecond)
	}
}
