package main

import (
	"reflect"
	"testing"

	"github.com/gofutures/gofutures/core"
)

// gf_waiter_take's copy never writes past the caller's buffer (the C side
// gives room for n+1 entries), however often a bridged foreign future
// reports: a member reported again is not taken again, and members beyond
// the room wait for the next take.
func TestTakeIntoStaysInItsBuffer(t *testing.T) {
	w := core.NewWaiter(core.AsCompleted)
	w.AddExternal(3)
	w.Arm()
	for i := 0; i < 50; i++ {
		w.Notify(1, core.OutcomeResult) // a foreign future notifying again and again
	}
	w.Notify(0, core.OutcomeResult)
	w.Notify(2, core.OutcomeException)
	buf := []int64{-1, -1, -1, -1, 7, 7} // room for n+1 = 4, then a canary
	if k := takeInto(w, buf[:4]); k != 3 || !reflect.DeepEqual(buf, []int64{1, 0, 2, -1, 7, 7}) {
		t.Fatalf("took %d: %v", k, buf)
	}
	w.Notify(1, core.OutcomeResult)
	if k := takeInto(w, buf[:4]); k != 0 {
		t.Fatalf("a member taken twice: %d %v", k, buf)
	}

	// Room for fewer than were notified: the rest comes with the next take.
	w2 := core.NewWaiter(core.AsCompleted)
	w2.AddExternal(3)
	w2.Arm()
	for i := 2; i >= 0; i-- {
		w2.Notify(i, core.OutcomeResult)
	}
	small := []int64{-1, -1, 7}
	if k := takeInto(w2, small[:2]); k != 2 || !reflect.DeepEqual(small, []int64{2, 1, 7}) {
		t.Fatalf("took %d: %v", k, small)
	}
	if k := takeInto(w2, small[:2]); k != 1 || small[0] != 0 || small[2] != 7 {
		t.Fatalf("second take %d: %v", k, small)
	}
}
