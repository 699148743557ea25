package core

import (
	"testing"

	"github.com/gofutures/gofutures/core/stats"
)

// A task cancelled while queued counts as cancelled when Cancel returns, not
// when a worker later takes it out; and it is counted once, whichever way it
// leaves the queue.
func TestThreadPoolCountsACancelInTheQueueAtOnce(t *testing.T) {
	for _, leave := range []string{"worker", "shutdown", "break"} {
		t.Run(leave, func(t *testing.T) {
			p := NewThreadPool(1)
			fs := []*Future{NewFuture(), NewFuture(), NewFuture()}
			for i, f := range fs {
				if _, err := p.Submit(Task(i+1), f); err != nil {
					t.Fatal(err)
				}
			}
			if c, tr := fs[1].Cancel(); !c || !tr {
				t.Fatal("cancel of a queued future failed")
			}
			s := p.Stats().Snapshot()
			if s.Cancelled != 1 || s.Queued != 2 || s.Submitted != 3 {
				t.Fatalf("after cancel(): %+v", s)
			}
			w := p.NewTokenWorker(1)
			switch leave {
			case "worker":
				for i, want := range []int{1, 2, 1} {
					prev := stats.OutcomeNone
					if want == 1 && i > 0 {
						prev = stats.OutcomeOK
					}
					if _, st := p.NextOrPark(w, prev); st != want {
						t.Fatalf("task %d: NextOrPark st = %d, want %d", i, st, want)
					}
				}
				p.NextOrPark(w, stats.OutcomeOK) // the last one's end; parks
			case "shutdown":
				if got := p.Shutdown(true); len(got) != 3 {
					t.Fatalf("Shutdown drained %d tasks", len(got))
				}
			case "break":
				if got := p.Break(); len(got) != 3 {
					t.Fatalf("Break drained %d tasks", len(got))
				}
			}
			s = p.Stats().Snapshot()
			if s.Cancelled+s.Completed+s.Failed != 3 || s.Queued != 0 || s.Running != 0 {
				t.Fatalf("after the queue emptied (%s): %+v", leave, s)
			}
			if leave != "break" && s.Cancelled != 3-int64(map[string]int{"worker": 2, "shutdown": 0}[leave]) {
				t.Fatalf("cancelled = %d (%s)", s.Cancelled, leave)
			}
			if leave == "break" && (s.Cancelled != 1 || s.Failed != 2) {
				t.Fatalf("break: %+v", s)
			}
		})
	}
}

func TestProcPoolCountsACancelInTheQueueAtOnce(t *testing.T) {
	p := NewProcPool(1, 0, 1)
	fs := []*Future{NewFuture(), NewFuture(), NewFuture()}
	for _, f := range fs {
		if _, err := p.Submit(f, []byte("x")); err != nil { // no worker: all stay queued
			t.Fatal(err)
		}
	}
	fs[2].Cancel()
	if s := p.Stats().Snapshot(); s.Cancelled != 1 || s.Queued != 2 {
		t.Fatalf("after cancel(): %+v", s)
	}
	p.Shutdown(true) // cancels the other two: counted once each
	if s := p.Stats().Snapshot(); s.Cancelled != 3 || s.Queued != 0 || s.Submitted != 3 {
		t.Fatalf("after shutdown(cancel_futures=True): %+v", s)
	}
}
