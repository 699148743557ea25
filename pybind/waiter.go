package main

/*
#include <stdint.h>
*/
import "C"

import (
	"unsafe"

	"github.com/gofutures/gofutures/core"
)

func waiter(h C.uintptr_t) *core.Waiter { return handleValue(h).(*core.Waiter) }

// gf_waiter_new returns a waiter of kind GF_WK_*; the caller registers its
// members, arms it (gf_waiter_arm) and frees it with gf_waiter_free.
//
//export gf_waiter_new
func gf_waiter_new(kind C.int) C.uintptr_t {
	return newHandle(core.NewWaiter(core.WaitKind(kind)))
}

// gf_waiter_register registers the waiter on n futures in one call. futs[i]
// is a future handle, or 0 for a member the caller bridges itself (it is
// counted with gf_waiter_add_external). out[i] is set to 0 when the future
// was registered, or to 1 + Outcome when it had already completed.
//
//export gf_waiter_register
func gf_waiter_register(wh C.uintptr_t, futs *C.uintptr_t, n C.int64_t, out *C.uint8_t) {
	hs := unsafe.Slice(futs, int(n))
	os := unsafe.Slice(out, int(n))
	fs := make([]*core.Future, len(hs))
	for i, h := range hs {
		if h != 0 {
			fs[i] = fut(h)
			os[i] = 0
		}
	}
	waiter(wh).RegisterAll(fs, func(i int, o core.Outcome) { os[i] = C.uint8_t(1 + o) })
}

// gf_waiter_add_external counts n members that are not gofutures futures:
// the caller reports each with gf_waiter_notify.
//
//export gf_waiter_add_external
func gf_waiter_add_external(wh C.uintptr_t, n C.int64_t) { waiter(wh).AddExternal(int(n)) }

// gf_waiter_arm ends registration: from now on an ALL_COMPLETED or
// FIRST_EXCEPTION waiter may fire for its last member (core.Waiter.Arm).
//
//export gf_waiter_arm
func gf_waiter_arm(wh C.uintptr_t) { waiter(wh).Arm() }

// gf_waiter_notify reports that external member idx completed with outcome
// (GF_OUT_*); a member reported again is counted once.
//
//export gf_waiter_notify
func gf_waiter_notify(wh C.uintptr_t, idx C.int64_t, outcome C.int) {
	waiter(wh).Notify(int(idx), core.Outcome(outcome))
}

// gf_waiter_wait blocks (GIL released by the caller); 1 when fired.
//
//export gf_waiter_wait
func gf_waiter_wait(wh C.uintptr_t, timeoutNs C.int64_t) C.int {
	if waiter(wh).Wait(nanos(timeoutNs)) {
		return 1
	}
	return 0
}

// gf_waiter_take copies the members notified since the last take into out,
// at most capacity of them (the rest stay for the next take), and returns
// how many. The Go waiter counts each member once, so a caller with room for
// all its members gets every one.
//
//export gf_waiter_take
func gf_waiter_take(wh C.uintptr_t, out *C.int64_t, capacity C.int64_t) C.int64_t {
	if capacity <= 0 {
		return 0
	}
	return C.int64_t(takeInto(waiter(wh), unsafe.Slice((*int64)(unsafe.Pointer(out)), int(capacity))))
}

// takeInto takes at most len(dst) members of w into dst; returns how many.
func takeInto(w *core.Waiter, dst []int64) int {
	idx := w.TakeAtMost(len(dst))
	for i, v := range idx {
		dst[i] = int64(v)
	}
	return len(idx)
}

// gf_waiter_free unregisters the waiter from its futures and releases the
// handle. The caller guarantees no other thread still uses it (cshim/guard.h
// for the iterators).
//
//export gf_waiter_free
func gf_waiter_free(wh C.uintptr_t) {
	waiter(wh).Close()
	freeHandle(wh)
}
