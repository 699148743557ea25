// Package main is the C ABI over core, built with -buildmode=c-archive and
// linked with the C shim (cshim/) into the one CPython extension.
//
// Go objects cross to C only as handles (uintptr_t; handles.go). The
// C side owns each handle it receives and gives it back through the
// matching *_free call; nothing here holds a Python object or a C pointer
// beyond a call, except the task words of a thread pool, which the C side
// owns.
package main

/*
#include <stdint.h>
#include "abi.h"
*/
import "C"

import (
	"time"
	"unsafe"

	"github.com/gofutures/gofutures/core"
)

func main() {}

func fut(h C.uintptr_t) *core.Future { return handleValue(h).(*core.Future) }

// nanos converts a C timeout in nanoseconds (negative, as GF_NO_TIMEOUT:
// none) to a Duration (negative: none, as core takes it).
func nanos(ns C.int64_t) time.Duration {
	if ns < 0 {
		return -1
	}
	return time.Duration(ns)
}

//export gf_fut_new
func gf_fut_new() C.uintptr_t { return newHandle(core.NewFuture()) }

//export gf_fut_free
func gf_fut_free(h C.uintptr_t) { freeHandle(h) }

//export gf_fut_state
func gf_fut_state(h C.uintptr_t) C.int { return C.int(fut(h).State()) }

//export gf_fut_failed
func gf_fut_failed(h C.uintptr_t) C.int {
	if fut(h).Failed() {
		return 1
	}
	return 0
}

// gf_fut_cancel returns a GF_CANCEL_* code (abi.h): GF_CANCEL_NOW when
// this call cancelled it (the caller then runs the done-callbacks).
//
//export gf_fut_cancel
func gf_fut_cancel(h C.uintptr_t) C.int {
	c, t := fut(h).Cancel()
	switch {
	case t:
		return C.GF_CANCEL_NOW
	case c:
		return C.GF_CANCEL_ALREADY
	}
	return C.GF_CANCEL_REFUSED
}

// gf_fut_set_running returns 1 (now RUNNING), 0 (was cancelled; waiters
// told) or -1 (unexpected state).
//
//export gf_fut_set_running
func gf_fut_set_running(h C.uintptr_t) C.int {
	ok, err := fut(h).SetRunningOrNotifyCancel()
	switch {
	case err != nil:
		return -1
	case ok:
		return 1
	}
	return 0
}

// gf_fut_finish returns 0, or -1 if the future was already done.
//
//export gf_fut_finish
func gf_fut_finish(h C.uintptr_t, failed C.int) C.int {
	if fut(h).Finish(failed != 0) != nil {
		return -1
	}
	return 0
}

//export gf_fut_force
func gf_fut_force(h C.uintptr_t, state C.int, failed C.int) {
	fut(h).Force(core.State(state), failed != 0)
}

// gf_fut_add_listener stores owner (core.Future.AddListener) and returns a
// bit set: GF_LISTEN_DONE if the future is done, GF_LISTEN_STORED if owner
// was stored (the caller then gives the owner one reference, which whoever
// takes the owner back releases).
//
//export gf_fut_add_listener
func gf_fut_add_listener(h C.uintptr_t, owner C.uintptr_t) C.int {
	done, stored := fut(h).AddListener(uintptr(owner))
	return flagIf(done, C.GF_LISTEN_DONE) | flagIf(stored, C.GF_LISTEN_STORED)
}

// gf_fut_take_owner returns the stored owner word (and forgets it), or 0 if
// none is stored: the C side takes it back when it finishes a process
// future itself, so that the pool's later release finds nothing to deliver.
//
//export gf_fut_take_owner
func gf_fut_take_owner(h C.uintptr_t) C.uintptr_t {
	return C.uintptr_t(fut(h).TakeOwner())
}

// gf_fut_payload_len returns the size of a process result not yet taken.
//
//export gf_fut_payload_len
func gf_fut_payload_len(h C.uintptr_t) C.int64_t { return C.int64_t(fut(h).PayloadLen()) }

// gf_fut_take_payload copies the result bytes into buf (room for n) and
// forgets them; it returns the number copied.
//
//export gf_fut_take_payload
func gf_fut_take_payload(h C.uintptr_t, buf unsafe.Pointer, n C.int64_t) C.int64_t {
	p := fut(h).TakePayload()
	k := copy(unsafe.Slice((*byte)(buf), int(n)), p)
	return C.int64_t(k)
}
