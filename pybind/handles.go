package main

/*
#include <stdint.h>
*/
import "C"

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Handles: Go objects cross to C as small integers, as with
// runtime/cgo.Handle, but looked up in a slab instead of cgo.Handle's
// global sync.Map. Measured (benchmarks/README.md): with 100k live futures
// a cgo.Handle lookup cost 450-670 ns (cache misses in the map), 44% of the
// cycles of result() on a done future; a slab lookup is two atomic loads
// and an index. Handles are never 0, so C can use 0 for "none".
//
// A slot is written only by newHandle and freeHandle; lookups of a live
// handle read an atomic pointer, so they need no lock.

const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
	maxChunks = 1 << 18 // 2^30 live handles at most
)

type slot struct{ v atomic.Pointer[box] }

type box struct{ v any }

type chunk [chunkSize]slot

var (
	chunks      [maxChunks]atomic.Pointer[chunk]
	handleMu    sync.Mutex
	freeSlots   []uintptr // indices to reuse, most recently freed last
	nextSlot    uintptr
	liveHandles atomic.Int64 // given to C and not yet released, for leak tests
)

func slotAt(i uintptr) *slot { return &chunks[i>>chunkBits].Load()[i&(chunkSize-1)] }

func newHandle(v any) C.uintptr_t {
	b := &box{v}
	handleMu.Lock()
	var i uintptr
	if n := len(freeSlots); n > 0 {
		i = freeSlots[n-1]
		freeSlots = freeSlots[:n-1]
	} else {
		i = nextSlot
		if i>>chunkBits >= maxChunks {
			handleMu.Unlock()
			panic("gofutures: too many live handles")
		}
		nextSlot++
		if chunks[i>>chunkBits].Load() == nil {
			chunks[i>>chunkBits].Store(new(chunk))
		}
	}
	slotAt(i).v.Store(b)
	handleMu.Unlock()
	liveHandles.Add(1)
	return C.uintptr_t(i + 1)
}

// handleValue returns the object behind a live handle.
func handleValue(h C.uintptr_t) any {
	i := uintptr(h) - 1
	c := chunks[i>>chunkBits].Load()
	if h == 0 || c == nil {
		panic("gofutures: invalid handle")
	}
	b := c[i&(chunkSize-1)].v.Load()
	if b == nil {
		panic("gofutures: handle used after free")
	}
	return b.v
}

func freeHandle(h C.uintptr_t) {
	i := uintptr(h) - 1
	handleMu.Lock()
	if slotAt(i).v.Swap(nil) == nil {
		handleMu.Unlock()
		panic("gofutures: handle freed twice")
	}
	freeSlots = append(freeSlots, i)
	handleMu.Unlock()
	liveHandles.Add(-1)
}

// gf_debug_counts reports the live handles and the goroutines.
//
//export gf_debug_counts
func gf_debug_counts(handles, goroutines *C.int64_t) {
	*handles = C.int64_t(liveHandles.Load())
	*goroutines = C.int64_t(runtime.NumGoroutine())
}

// handleOf converts a plain integer back to a handle (tests).
func handleOf(h uintptr) C.uintptr_t { return C.uintptr_t(h) }
