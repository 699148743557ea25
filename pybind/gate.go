package main

/*
#include <stdint.h>
*/
import "C"

import "github.com/gofutures/gofutures/core"

// Backpressure gates (core.Gate): the C pool objects own one each when
// made with max_pending, and take a slot before every submit.

func gate(h C.uintptr_t) *core.Gate { return handleValue(h).(*core.Gate) }

// gf_gate_new returns a gate of n slots (max_pending); the C pool object
// owns the handle and frees it with gf_gate_free.
//
//export gf_gate_new
func gf_gate_new(n C.int64_t) C.uintptr_t { return newHandle(core.NewGate(int(n))) }

// gf_gate_free releases the gate's handle; futures that hold a slot keep
// the Go gate alive until they give the slot back.
//
//export gf_gate_free
func gf_gate_free(h C.uintptr_t) { freeHandle(h) }

// gf_gate_acquire takes a slot, waiting at most timeoutNs (0: no wait,
// negative: none; the caller has released the GIL unless it is 0). It
// returns 1 when it got one, 0 on timeout (a gf_wait_fn for gf_block).
//
//export gf_gate_acquire
func gf_gate_acquire(h C.uintptr_t, timeoutNs C.int64_t) C.int {
	if gate(h).Acquire(nanos(timeoutNs)) {
		return 1
	}
	return 0
}

// gf_gate_release gives back a slot whose task was never queued.
//
//export gf_gate_release
func gf_gate_release(h C.uintptr_t) { gate(h).Release() }

// gf_fut_set_gate hands the future fh the slot its task took from gate gh.
//
//export gf_fut_set_gate
func gf_fut_set_gate(fh, gh C.uintptr_t) { fut(fh).SetGate(gate(gh)) }
