package main

/*
#include <stdint.h>
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync/atomic"
)

// liveHandles counts the cgo handles given to C and not yet released, so
// that tests can check that nothing is left behind after a shutdown.
var liveHandles atomic.Int64

func newHandle(v any) C.uintptr_t {
	liveHandles.Add(1)
	return C.uintptr_t(cgo.NewHandle(v))
}

func freeHandle(h C.uintptr_t) {
	cgo.Handle(h).Delete()
	liveHandles.Add(-1)
}

// gf_debug_counts reports the live handles and the goroutines.
//
//export gf_debug_counts
func gf_debug_counts(handles, goroutines *C.int64_t) {
	*handles = C.int64_t(liveHandles.Load())
	*goroutines = C.int64_t(runtime.NumGoroutine())
}
