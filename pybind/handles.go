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

// Handles: Go objects cross to C as integers, as with runtime/cgo.Handle,
// but looked up in a slab instead of cgo.Handle's global sync.Map.
// With many live futures a cgo.Handle lookup misses the cache in the map
// and dominated result() on a done future (benchmarks/README.md); a slab
// lookup is two atomic loads, an index and a compare. Handles are never 0, so C can use 0 for "none".
//
// A handle is gen<<slotBits | (slot index + 1). Each slot counts its
// generation, bumped when its handle is freed, so a freed slot reused for
// another object gets a different handle: a stale handle (freed, whether
// or not its slot was reused since) panics on lookup or free, and never
// reaches the slot's new object. The generation is 32 bits on 64-bit
// platforms (it wraps after 2^32 reuses of one slot); 32-bit platforms
// have no room for one and keep only the empty-slot check.
//
// A slot is written only by newHandle and freeHandle (under handleMu);
// lookups of a live handle read atomic pointers, so they need no lock.

const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
	maxChunks = 1 << 18 // 2^30 live handles at most

	slotBits = 32 // the low bits: slot index + 1 (the index is < 2^30)
	slotMask = 1<<slotBits - 1
)

type slot struct{ v atomic.Pointer[box] }

// box is what a live slot points to: the object and its full handle, so
// that one load gives both and a stale handle compares unequal.
type box struct {
	v any
	h uintptr
}

type chunk struct {
	slots [chunkSize]slot
	// under handleMu: each slot's generation for its next handle (apart
	// from the slots, so that lookups touch only the pointers)
	gens [chunkSize]uintptr
}

var (
	chunks      [maxChunks]atomic.Pointer[chunk]
	handleMu    sync.Mutex
	freeSlots   []uintptr // indices to reuse, most recently freed last
	nextSlot    uintptr
	liveHandles atomic.Int64 // given to C and not yet released, for leak tests
)

func slotAt(i uintptr) *slot { return &chunks[i>>chunkBits].Load().slots[i&(chunkSize-1)] }

func genAt(i uintptr) *uintptr { return &chunks[i>>chunkBits].Load().gens[i&(chunkSize-1)] }

func newHandle(v any) C.uintptr_t {
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
	h := *genAt(i)<<slotBits | (i + 1) // gen<<32 is 0 on 32-bit platforms
	slotAt(i).v.Store(&box{v, h})
	handleMu.Unlock()
	liveHandles.Add(1)
	return C.uintptr_t(h)
}

// slotOf returns the slot a handle names, or nil if no slot ever had that
// index (0, garbage).
func slotOf(h C.uintptr_t) *slot {
	i := uintptr(h)&slotMask - 1 // wraps to a huge index for low bits 0
	if i>>chunkBits >= maxChunks {
		return nil
	}
	if c := chunks[i>>chunkBits].Load(); c != nil {
		return &c.slots[i&(chunkSize-1)]
	}
	return nil
}

// badHandle is the panic value for a handle that is not live; its message
// says what is wrong (computed when printed, so that raising it costs the
// lookup's hot path nothing).
type badHandle struct {
	h    C.uintptr_t
	what string // "used after free", "freed twice"
}

func (e badHandle) Error() string {
	s := slotOf(e.h)
	switch {
	case s == nil:
		return "gofutures: invalid handle"
	case s.v.Load() == nil:
		return "gofutures: handle " + e.what
	}
	return "gofutures: stale handle " + e.what + " (its slot holds a newer object)"
}

// handleValue returns the object behind a live handle: two atomic loads
// and a compare, inlined. The chunk index is masked rather than checked: a
// bad handle may then reach some other slot, but never one whose box
// carries exactly that handle.
func handleValue(h C.uintptr_t) any {
	i := uintptr(h)&slotMask - 1
	if c := chunks[(i>>chunkBits)&(maxChunks-1)].Load(); c != nil {
		if b := c.slots[i&(chunkSize-1)].v.Load(); b != nil && b.h == uintptr(h) {
			return b.v
		}
	}
	panic(badHandle{h, "used after free"})
}

func freeHandle(h C.uintptr_t) {
	s := slotOf(h)
	if s == nil {
		panic(badHandle{h, "freed twice"})
	}
	handleMu.Lock()
	if b := s.v.Load(); b == nil || b.h != uintptr(h) {
		handleMu.Unlock()
		panic(badHandle{h, "freed twice"})
	}
	s.v.Store(nil)
	i := uintptr(h)&slotMask - 1
	*genAt(i)++ // the slot's next handle differs from every earlier one
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
