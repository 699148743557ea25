package main

import (
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
	hc := newHandle(3.0)
	if hc != ha || handleValue(hc).(float64) != 3.0 {
		t.Fatalf("a freed slot is reused: got %d, freed %d", hc, ha)
	}
	freeHandle(hb)
	freeHandle(hc)
	if liveHandles.Load() != base {
		t.Fatalf("live handles %d, want %d", liveHandles.Load(), base)
	}
	mustPanic(t, "use after free", func() { handleValue(hb) })
	mustPanic(t, "double free", func() { freeHandle(hb) })
	mustPanic(t, "zero handle", func() { handleValue(0) })
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Fatalf("%s did not panic", what)
		}
	}()
	f()
}

// Many goroutines make, read and free handles at once, across chunk
// boundaries (run with -race).
func TestHandlesConcurrent(t *testing.T) {
	var wg sync.WaitGroup
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
				}
			}
			for _, h := range hs {
				freeHandle(handleOf(h))
			}
		}(g)
	}
	wg.Wait()
}
