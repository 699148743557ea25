package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestHandlesRoundTripAndReuse(t *testing.T) {
	base := liveHandles.Load()
	a, b := 1, "two"
	ha, hb := newHandle(&a), newHandle(b)
	if ha == 0 || hb == 0 || ha == hb {
		t.Fatalf("handles %d %d", ha, hb)
	}
	if handleValue(ha).(*int) != &a || handleValue(hb).(string) != "two" {
		t.Fatal("lookup returned the wrong object")
	}
	freeHandle(ha)
	mustPanic(t, "use after free", "gofutures: handle used after free", func() { handleValue(ha) })
	hc := newHandle(3.0)
	if uintptr(hc)&slotMask != uintptr(ha)&slotMask || hc == ha {
		t.Fatalf("a freed slot is reused under a new generation: got %#x, freed %#x", hc, ha)
	}
	if handleValue(hc).(float64) != 3.0 {
		t.Fatal("lookup of the reused slot returned the wrong object")
	}
	freeHandle(hb)
	freeHandle(hc)
	if liveHandles.Load() != base {
		t.Fatalf("live handles %d, want %d", liveHandles.Load(), base)
	}
	mustPanic(t, "use after free", "gofutures: handle used after free", func() { handleValue(hb) })
	mustPanic(t, "double free", "gofutures: handle freed twice", func() { freeHandle(hb) })
	mustPanic(t, "zero handle", "gofutures: invalid handle", func() { handleValue(0) })
	mustPanic(t, "free of zero", "gofutures: invalid handle", func() { freeHandle(0) })
	mustPanic(t, "never made", "gofutures: invalid handle", func() { handleValue(handleOf(slotMask)) })
}

// A handle freed and its slot reused must never reach the new object: the
// lookup and a second free both fail, and the new object stays intact.
func TestHandlesStaleAfterReuse(t *testing.T) {
	base := liveHandles.Load()
	old := newHandle("old")
	freeHandle(old)
	fresh := newHandle("new") // LIFO: the same slot
	if uintptr(fresh)&slotMask != uintptr(old)&slotMask {
		t.Fatalf("slot not reused: %#x, %#x", fresh, old)
	}
	const msg = "gofutures: stale handle used after free (its slot holds a newer object)"
	mustPanic(t, "stale lookup", msg, func() { handleValue(old) })
	mustPanic(t, "stale free", "gofutures: stale handle freed twice (its slot holds a newer object)",
		func() { freeHandle(old) })
	if handleValue(fresh).(string) != "new" {
		t.Fatal("a stale free touched the slot's new object")
	}
	freeHandle(fresh)
	if liveHandles.Load() != base {
		t.Fatalf("live handles %d, want %d", liveHandles.Load(), base)
	}
}

func mustPanic(t *testing.T, what, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("%s did not panic", what)
		}
		if msg := fmt.Sprint(r); msg != want {
			t.Fatalf("%s panicked with %q, want %q", what, msg, want)
		}
	}()
	f()
}

// Many goroutines make, read and free handles at once, across chunk
// boundaries, while others look up and free handles already freed (which
// must fail, never reach the slot's new object). Run with -race.
func TestHandlesConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	stale := make(chan uintptr, 1024)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var hs []uintptr
			for i := 0; i < 3*chunkSize; i++ {
				v := g*1_000_000 + i
				h := newHandle(v)
				if handleValue(h).(int) != v {
					t.Errorf("goroutine %d: wrong value", g)
					return
				}
				hs = append(hs, uintptr(h))
				if i%3 == 0 {
					freeHandle(h)
					hs = hs[:len(hs)-1]
					select {
					case stale <- uintptr(h):
					default:
					}
				}
			}
			for _, h := range hs {
				freeHandle(handleOf(h))
			}
		}(g)
	}
	var checked sync.WaitGroup
	var nStale int
	checked.Add(1)
	go func() {
		defer checked.Done()
		for h := range stale {
			nStale++
			mustPanicAny(t, func() { handleValue(handleOf(h)) })
			mustPanicAny(t, func() { freeHandle(handleOf(h)) })
		}
	}()
	wg.Wait()
	close(stale)
	checked.Wait()
	if nStale == 0 {
		t.Fatal("no stale handle was checked")
	}
}

// mustPanicAny: the call panics with one of the stale-handle messages
// (the slot may be empty or hold a newer object at that moment).
func mustPanicAny(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		r := fmt.Sprint(recover())
		if !strings.HasPrefix(r, "gofutures: handle ") && !strings.HasPrefix(r, "gofutures: stale handle ") {
			t.Errorf("stale handle: panic %q", r)
		}
	}()
	f()
}

// The hot path: lookups of live handles among many (C's every call into Go
// starts with one). Run: go test -run=^$ -bench=HandleValue -count=5 ./pybind
func BenchmarkHandleValue(b *testing.B) {
	const n = 100_000
	hs := make([]uintptr, n)
	for i := range hs {
		hs[i] = uintptr(newHandle(i))
	}
	b.ResetTimer()
	sum := 0
	for i := 0; i < b.N; i++ {
		// A stride through the slab, as live futures are spread over it.
		sum += handleValue(handleOf(hs[(i*7919)%n])).(int)
	}
	b.StopTimer()
	if sum < 0 {
		b.Fatal(sum)
	}
	for _, h := range hs {
		freeHandle(handleOf(h))
	}
}

func BenchmarkHandleNewFree(b *testing.B) {
	for i := 0; i < b.N; i++ {
		freeHandle(newHandle(i))
	}
}
