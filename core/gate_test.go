package core

import (
	"sync"
	"testing"
	"time"
)

func TestGateBoundsAndTimesOut(t *testing.T) {
	g := NewGate(2)
	if !g.Acquire(0) || !g.Acquire(0) {
		t.Fatal("a free slot was refused")
	}
	if g.Acquire(0) {
		t.Fatal("a third slot of two")
	}
	start := time.Now()
	if g.Acquire(30 * time.Millisecond) {
		t.Fatal("a slot appeared from nowhere")
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Fatal("gave up before its timeout")
	}
	g.Release()
	if !g.Acquire(time.Second) {
		t.Fatal("a released slot was not reused")
	}
}

// A future gives its slot back exactly once, on its first move to a done
// state, whichever it is, and also when it was done before it got the slot.
func TestFutureGivesItsSlotBackOnce(t *testing.T) {
	finish := map[string]func(f *Future){
		"result":    func(f *Future) { f.Finish(false) },
		"exception": func(f *Future) { f.Finish(true) },
		"cancel":    func(f *Future) { f.Cancel() },
		"force":     func(f *Future) { f.Force(Finished, false) },
	}
	for name, fin := range finish {
		g := NewGate(1)
		g.Acquire(0)
		f := NewFuture()
		f.SetGate(g)
		if g.Acquire(0) {
			t.Fatalf("%s: slot free before the future is done", name)
		}
		fin(f)
		f.Force(Running, false) // back to a live state, then done again
		f.Finish(false)
		if !g.Acquire(0) {
			t.Fatalf("%s: slot not given back", name)
		}
		if g.Acquire(0) {
			t.Fatalf("%s: slot given back twice", name)
		}
	}
	g := NewGate(1)
	g.Acquire(0)
	f := NewFuture()
	f.Finish(false)
	f.SetGate(g) // done before it got the slot
	if !g.Acquire(0) {
		t.Fatal("a done future kept its slot")
	}
}

func TestGateUnderConcurrentSubmitters(t *testing.T) {
	const slots, submitters, each = 3, 8, 200
	g := NewGate(slots)
	var mu sync.Mutex
	held, most := 0, 0
	var wg sync.WaitGroup
	for i := 0; i < submitters; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				if !g.Acquire(-1) {
					t.Error("an unbounded wait gave up")
					return
				}
				mu.Lock()
				held++
				if held > most {
					most = held
				}
				mu.Unlock()
				f := NewFuture()
				f.SetGate(g)
				go func() {
					mu.Lock()
					held--
					mu.Unlock()
					f.Finish(false)
				}()
			}
		}()
	}
	wg.Wait()
	if most > slots {
		t.Fatalf("%d tasks held slots at once; the gate has %d", most, slots)
	}
}
