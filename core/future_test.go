package core

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Timing policy (the tests run on a noisy 2-core machine, often under -race):
// things that must happen get a generous deadline; things that must not have
// happened yet are only observed for a short while.
const (
	mustHappen = 10 * time.Second
	mustNotYet = 50 * time.Millisecond
)

// received reports whether ch delivers within d. (time.After: the timer
// is left to fire unstopped, harmless in a test.)
func received[T any](ch <-chan T, d time.Duration) (T, bool) {
	select {
	case v := <-ch:
		return v, true
	case <-time.After(d):
		var zero T
		return zero, false
	}
}

// isClosed reports whether ch is closed (without blocking).
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// assertWaitsOut checks that wait(d) reports not done, and not before d.
func assertWaitsOut(t *testing.T, wait func(time.Duration) bool, d time.Duration, what string) {
	t.Helper()
	start := time.Now()
	if wait(d) {
		t.Fatalf("%s: Wait(%v) = true", what, d)
	}
	if el := time.Since(start); el < d {
		t.Fatalf("%s: Wait(%v) returned after %v, before its timeout", what, d, el)
	}
}

// eventually polls cond until it holds or mustHappen passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(mustHappen)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStateString(t *testing.T) {
	cases := map[State]string{
		Pending:              "PENDING",
		Running:              "RUNNING",
		Cancelled:            "CANCELLED",
		CancelledAndNotified: "CANCELLED_AND_NOTIFIED",
		Finished:             "FINISHED",
		State(5):             "UNKNOWN",
		State(1 << 20):       "UNKNOWN",
	}
	for s, want := range cases {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", uint32(s), got, want)
		}
	}
}

func TestStateDoneNotified(t *testing.T) {
	cases := []struct {
		s              State
		done, notified bool
	}{
		{Pending, false, false},
		{Running, false, false},
		{Cancelled, true, false},
		{CancelledAndNotified, true, true},
		{Finished, true, true},
	}
	for _, c := range cases {
		if got := c.s.Done(); got != c.done {
			t.Errorf("%v.Done() = %v, want %v", c.s, got, c.done)
		}
		if got := c.s.Notified(); got != c.notified {
			t.Errorf("%v.Notified() = %v, want %v", c.s, got, c.notified)
		}
	}
}

func TestNewFuture(t *testing.T) {
	f := NewFuture()
	if s := f.State(); s != Pending {
		t.Fatalf("new future state = %v, want PENDING", s)
	}
	if f.Failed() {
		t.Fatal("new future Failed() = true")
	}
	if p := f.TakePayload(); p != nil {
		t.Fatalf("new future payload = %q, want nil", p)
	}
	if f.Wait(0) {
		t.Fatal("Wait(0) on a new future = true")
	}
}

// startState names a state a future can be brought to before an operation.
type startState struct {
	name   string
	state  State
	failed bool
	// natural reaches the state through the public transitions.
	natural func(t *testing.T, f *Future)
}

func mustNil(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error %v", what, err)
	}
}

var startStates = []startState{
	{"PENDING", Pending, false, func(t *testing.T, f *Future) {}},
	{"RUNNING", Running, false, func(t *testing.T, f *Future) {
		ok, err := f.SetRunningOrNotifyCancel()
		mustNil(t, err, "setup SetRunningOrNotifyCancel")
		if !ok {
			t.Fatal("setup SetRunningOrNotifyCancel returned false")
		}
	}},
	{"CANCELLED", Cancelled, false, func(t *testing.T, f *Future) {
		if c, tr := f.Cancel(); !c || !tr {
			t.Fatalf("setup Cancel = %v, %v", c, tr)
		}
	}},
	{"CANCELLED_AND_NOTIFIED", CancelledAndNotified, false, func(t *testing.T, f *Future) {
		if c, tr := f.Cancel(); !c || !tr {
			t.Fatalf("setup Cancel = %v, %v", c, tr)
		}
		ok, err := f.SetRunningOrNotifyCancel()
		mustNil(t, err, "setup SetRunningOrNotifyCancel")
		if ok {
			t.Fatal("setup SetRunningOrNotifyCancel returned true on a cancelled future")
		}
	}},
	{"FINISHED(result)", Finished, false, func(t *testing.T, f *Future) {
		mustNil(t, f.Finish(false), "setup Finish(false)")
	}},
	{"FINISHED(exception)", Finished, true, func(t *testing.T, f *Future) {
		mustNil(t, f.Finish(true), "setup Finish(true)")
	}},
}

type futureOp int

const (
	opCancel futureOp = iota
	opSetRunning
	opFinishResult
	opFinishException
)

func (o futureOp) String() string {
	return [...]string{"Cancel", "SetRunningOrNotifyCancel", "Finish(false)", "Finish(true)"}[o]
}

// opResult is what any of the operations returns, normalised.
type opResult struct {
	b1, b2 bool // Cancel: cancelled, transitioned; SetRunning: running, -
	err    error
}

func (o futureOp) apply(f *Future) opResult {
	switch o {
	case opCancel:
		c, tr := f.Cancel()
		return opResult{c, tr, nil}
	case opSetRunning:
		r, err := f.SetRunningOrNotifyCancel()
		return opResult{r, false, err}
	case opFinishResult:
		return opResult{err: f.Finish(false)}
	case opFinishException:
		return opResult{err: f.Finish(true)}
	}
	panic("bad op")
}

type transition struct {
	from   string
	op     futureOp
	want   opResult
	to     State
	failed bool
	// notify: -1 when registered waiters must not be told, else the Outcome
	// they must be told.
	notify int
}

const noNotify = -1

var transitions = []transition{
	// PENDING
	{"PENDING", opCancel, opResult{true, true, nil}, Cancelled, false, noNotify},
	{"PENDING", opSetRunning, opResult{true, false, nil}, Running, false, noNotify},
	{"PENDING", opFinishResult, opResult{}, Finished, false, int(OutcomeResult)},
	{"PENDING", opFinishException, opResult{}, Finished, true, int(OutcomeException)},
	// RUNNING
	{"RUNNING", opCancel, opResult{false, false, nil}, Running, false, noNotify},
	{"RUNNING", opSetRunning, opResult{false, false, ErrUnexpectedState}, Running, false, noNotify},
	{"RUNNING", opFinishResult, opResult{}, Finished, false, int(OutcomeResult)},
	{"RUNNING", opFinishException, opResult{}, Finished, true, int(OutcomeException)},
	// CANCELLED
	{"CANCELLED", opCancel, opResult{true, false, nil}, Cancelled, false, noNotify},
	{"CANCELLED", opSetRunning, opResult{false, false, nil}, CancelledAndNotified, false, int(OutcomeCancelled)},
	{"CANCELLED", opFinishResult, opResult{err: ErrInvalidState}, Cancelled, false, noNotify},
	{"CANCELLED", opFinishException, opResult{err: ErrInvalidState}, Cancelled, false, noNotify},
	// CANCELLED_AND_NOTIFIED
	{"CANCELLED_AND_NOTIFIED", opCancel, opResult{true, false, nil}, CancelledAndNotified, false, noNotify},
	{"CANCELLED_AND_NOTIFIED", opSetRunning, opResult{false, false, ErrUnexpectedState}, CancelledAndNotified, false, noNotify},
	{"CANCELLED_AND_NOTIFIED", opFinishResult, opResult{err: ErrInvalidState}, CancelledAndNotified, false, noNotify},
	{"CANCELLED_AND_NOTIFIED", opFinishException, opResult{err: ErrInvalidState}, CancelledAndNotified, false, noNotify},
	// FINISHED with a result
	{"FINISHED(result)", opCancel, opResult{false, false, nil}, Finished, false, noNotify},
	{"FINISHED(result)", opSetRunning, opResult{false, false, ErrUnexpectedState}, Finished, false, noNotify},
	{"FINISHED(result)", opFinishResult, opResult{err: ErrInvalidState}, Finished, false, noNotify},
	{"FINISHED(result)", opFinishException, opResult{err: ErrInvalidState}, Finished, false, noNotify},
	// FINISHED with an exception
	{"FINISHED(exception)", opCancel, opResult{false, false, nil}, Finished, true, noNotify},
	{"FINISHED(exception)", opSetRunning, opResult{false, false, ErrUnexpectedState}, Finished, true, noNotify},
	{"FINISHED(exception)", opFinishResult, opResult{err: ErrInvalidState}, Finished, true, noNotify},
	{"FINISHED(exception)", opFinishException, opResult{err: ErrInvalidState}, Finished, true, noNotify},
}

func findStart(t *testing.T, name string) startState {
	for _, s := range startStates {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no start state %q", name)
	return startState{}
}

func outcomeOf(s State, failed bool) Outcome {
	switch {
	case s == CancelledAndNotified:
		return OutcomeCancelled
	case failed:
		return OutcomeException
	}
	return OutcomeResult
}

func TestFutureTransitionTable(t *testing.T) {
	// Every (state, operation) pair must be covered exactly once.
	seen := map[string]bool{}
	for _, tr := range transitions {
		k := fmt.Sprintf("%s/%v", tr.from, tr.op)
		if seen[k] {
			t.Fatalf("duplicate table row %s", k)
		}
		seen[k] = true
	}
	if want := len(startStates) * 4; len(seen) != want {
		t.Fatalf("table has %d rows, want %d", len(seen), want)
	}

	for _, setup := range []string{"natural", "forced"} {
		for _, tr := range transitions {
			tr := tr
			t.Run(fmt.Sprintf("%s/%s/%v", setup, tr.from, tr.op), func(t *testing.T) {
				st := findStart(t, tr.from)
				f := NewFuture()
				if setup == "natural" {
					st.natural(t, f)
				} else {
					f.Force(st.state, st.failed)
				}
				if f.State() != st.state || f.Failed() != st.failed {
					t.Fatalf("setup reached %v failed=%v, want %v failed=%v",
						f.State(), f.Failed(), st.state, st.failed)
				}

				// Spies: an as_completed waiter sees whether the future
				// notified at all; a FIRST_EXCEPTION waiter with one extra
				// external member fires only on an exception outcome.
				asc := NewWaiter(AsCompleted)
				fex := NewWaiter(FirstException)
				registered := !st.state.Notified()
				if registered {
					if already, _ := asc.Register(f, 0); already {
						t.Fatal("Register on a non-notified future returned already=true")
					}
					if already, _ := fex.Register(f, 0); already {
						t.Fatal("Register on a non-notified future returned already=true")
					}
				}
				fex.AddExternal(1)
				asc.Arm()
				fex.Arm()

				got := tr.op.apply(f)
				if got.b1 != tr.want.b1 || got.b2 != tr.want.b2 {
					t.Errorf("%v returned (%v, %v), want (%v, %v)", tr.op, got.b1, got.b2, tr.want.b1, tr.want.b2)
				}
				if !errors.Is(got.err, tr.want.err) || (got.err == nil) != (tr.want.err == nil) {
					t.Errorf("%v error = %v, want %v", tr.op, got.err, tr.want.err)
				}
				if s := f.State(); s != tr.to {
					t.Errorf("state after %v = %v, want %v", tr.op, s, tr.to)
				}
				if fl := f.Failed(); fl != tr.failed {
					t.Errorf("Failed() after %v = %v, want %v", tr.op, fl, tr.failed)
				}
				if w := f.Wait(0); w != tr.to.Done() {
					t.Errorf("Wait(0) after %v = %v, want %v", tr.op, w, tr.to.Done())
				}

				notified := asc.Take()
				if tr.notify == noNotify {
					if len(notified) != 0 {
						t.Errorf("%v notified waiters %v, want none", tr.op, notified)
					}
					if fex.Wait(0) {
						t.Errorf("%v fired a FIRST_EXCEPTION waiter", tr.op)
					}
				} else {
					if len(notified) != 1 || notified[0] != 0 {
						t.Errorf("%v notified %v, want [0]", tr.op, notified)
					}
					wantFire := Outcome(tr.notify) == OutcomeException
					if fex.Wait(0) != wantFire {
						t.Errorf("%v: FIRST_EXCEPTION waiter fired=%v, want %v (outcome %d)",
							tr.op, !wantFire, wantFire, tr.notify)
					}
				}

				// A fresh registration sees the final state.
				already, o := NewWaiter(AllCompleted).Register(f, 7)
				if already != tr.to.Notified() {
					t.Errorf("Register after %v: already=%v, want %v", tr.op, already, tr.to.Notified())
				}
				if already {
					if want := outcomeOf(tr.to, tr.failed); o != want {
						t.Errorf("Register after %v: outcome=%v, want %v", tr.op, o, want)
					}
				}

				// A future is notified at most once: repeating the
				// operation must not tell the waiter again.
				tr.op.apply(f)
				if again := asc.Take(); len(again) != 0 {
					t.Errorf("repeating %v notified again: %v", tr.op, again)
				}
			})
		}
	}
}

// TestFutureTransitionChains walks the full life cycles of the stdlib.
func TestFutureTransitionChains(t *testing.T) {
	t.Run("pending-running-finished", func(t *testing.T) {
		f := NewFuture()
		w := NewWaiter(AsCompleted)
		w.Register(f, 3)
		w.Arm()
		if ok, err := f.SetRunningOrNotifyCancel(); !ok || err != nil {
			t.Fatalf("SetRunning = %v, %v", ok, err)
		}
		if w.Wait(0) {
			t.Fatal("RUNNING notified a waiter")
		}
		if c, tr := f.Cancel(); c || tr {
			t.Fatalf("Cancel on RUNNING = %v, %v", c, tr)
		}
		if err := f.Finish(false); err != nil {
			t.Fatal(err)
		}
		if got := w.Take(); len(got) != 1 || got[0] != 3 {
			t.Fatalf("Take = %v, want [3]", got)
		}
	})
	t.Run("pending-cancelled-notified", func(t *testing.T) {
		f := NewFuture()
		w := NewWaiter(FirstCompleted)
		w.Register(f, 5)
		w.Arm()
		f.Cancel()
		if w.Wait(0) {
			t.Fatal("CANCELLED (not yet notified) fired a FIRST_COMPLETED waiter")
		}
		if w.Finished() != 0 {
			t.Fatal("CANCELLED reported to the waiter before SetRunningOrNotifyCancel")
		}
		if ok, err := f.SetRunningOrNotifyCancel(); ok || err != nil {
			t.Fatalf("SetRunning on CANCELLED = %v, %v", ok, err)
		}
		if !w.Wait(0) {
			t.Fatal("CANCELLED_AND_NOTIFIED did not fire the waiter")
		}
		if got := w.Take(); len(got) != 1 || got[0] != 5 {
			t.Fatalf("Take = %v, want [5]", got)
		}
		if _, err := f.SetRunningOrNotifyCancel(); !errors.Is(err, ErrUnexpectedState) {
			t.Fatalf("second SetRunning error = %v, want ErrUnexpectedState", err)
		}
	})
}

func TestFutureFinishRace(t *testing.T) {
	for round := 0; round < 50; round++ {
		f := NewFuture()
		w := NewWaiter(AsCompleted)
		w.Register(f, 0)
		w.Arm()
		var wins atomic.Int32
		var failedWinner atomic.Bool
		goN(8, func(g int) {
			failed := g%2 == 1
			if err := f.Finish(failed); err == nil {
				wins.Add(1)
				failedWinner.Store(failed)
			} else if !errors.Is(err, ErrInvalidState) {
				t.Errorf("Finish error = %v", err)
			}
		})()
		if n := wins.Load(); n != 1 {
			t.Fatalf("%d concurrent Finish calls succeeded, want 1", n)
		}
		if f.Failed() != failedWinner.Load() {
			t.Fatalf("Failed() = %v but the winning Finish had failed=%v", f.Failed(), failedWinner.Load())
		}
		if got := w.Take(); len(got) != 1 {
			t.Fatalf("waiter notified %v, want exactly one notification", got)
		}
	}
}

// TestFutureCancelVersusRun races Cancel against SetRunningOrNotifyCancel:
// exactly one of them wins, and the outcome is consistent.
func TestFutureCancelVersusRun(t *testing.T) {
	for round := 0; round < 200; round++ {
		f := NewFuture()
		var (
			wg               sync.WaitGroup
			cancelled, trans bool
			running          bool
			runErr           error
			start            = make(chan struct{})
		)
		wg.Add(2)
		go func() { defer wg.Done(); <-start; cancelled, trans = f.Cancel() }()
		go func() { defer wg.Done(); <-start; running, runErr = f.SetRunningOrNotifyCancel() }()
		close(start)
		wg.Wait()
		if runErr != nil {
			t.Fatalf("SetRunning error %v", runErr)
		}
		switch {
		case trans: // Cancel first
			if !cancelled || running || f.State() != CancelledAndNotified {
				t.Fatalf("cancel won but cancelled=%v running=%v state=%v", cancelled, running, f.State())
			}
		default: // SetRunning first
			if cancelled || !running || f.State() != Running {
				t.Fatalf("run won but cancelled=%v running=%v state=%v", cancelled, running, f.State())
			}
		}
	}
}

func TestFutureWaitZero(t *testing.T) {
	f := NewFuture()
	start := time.Now()
	if f.Wait(0) {
		t.Fatal("Wait(0) on PENDING = true")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Wait(0) took %v", d)
	}
	f.SetRunningOrNotifyCancel()
	if f.Wait(0) {
		t.Fatal("Wait(0) on RUNNING = true")
	}
	f.Finish(false)
	if !f.Wait(0) {
		t.Fatal("Wait(0) on FINISHED = false")
	}

	// Done without a done channel ever having been made.
	g := NewFuture()
	g.Cancel()
	if !g.Wait(0) || !g.Wait(time.Millisecond) || !g.Wait(-1) {
		t.Fatal("Wait on a CANCELLED future did not report done")
	}
}

func TestFutureWaitTimeout(t *testing.T) {
	f := NewFuture()
	const d = 30 * time.Millisecond
	assertWaitsOut(t, f.Wait, d, "PENDING")
	// A second timed wait reuses the done channel and times out again.
	if f.Wait(time.Millisecond) {
		t.Fatal("second Wait(1ms) on PENDING = true")
	}
	f.Finish(true)
	if !f.Wait(d) {
		t.Fatal("Wait on FINISHED = false")
	}
}

// wakers are the ways a blocked Wait must be released.
var wakers = []struct {
	name  string
	wake  func(f *Future)
	state State
}{
	{"Finish(false)", func(f *Future) { f.Finish(false) }, Finished},
	{"Finish(true)", func(f *Future) { f.Finish(true) }, Finished},
	{"FinishPayload", func(f *Future) { f.FinishPayload(false, []byte("x")) }, Finished},
	{"Cancel", func(f *Future) { f.Cancel() }, Cancelled},
	{"Force(FINISHED)", func(f *Future) { f.Force(Finished, false) }, Finished},
	{"Force(CANCELLED)", func(f *Future) { f.Force(Cancelled, false) }, Cancelled},
	{"Force(CANCELLED_AND_NOTIFIED)", func(f *Future) { f.Force(CancelledAndNotified, false) }, CancelledAndNotified},
	{"Running-then-Finish", func(f *Future) { f.SetRunningOrNotifyCancel(); f.Finish(false) }, Finished},
}

func TestFutureWaitWoken(t *testing.T) {
	for _, timeout := range []time.Duration{-1, mustHappen} {
		for _, wk := range wakers {
			wk := wk
			t.Run(fmt.Sprintf("%v/%s", timeout, wk.name), func(t *testing.T) {
				f := NewFuture()
				const n = 4
				res := make(chan bool, n)
				entered := make(chan struct{}, n)
				for i := 0; i < n; i++ {
					go func() {
						entered <- struct{}{}
						res <- f.Wait(timeout)
					}()
				}
				for i := 0; i < n; i++ {
					<-entered
				}
				if _, ok := received(res, mustNotYet); ok {
					t.Fatal("Wait returned before the future was done")
				}
				start := time.Now()
				wk.wake(f)
				for i := 0; i < n; i++ {
					v, ok := received(res, mustHappen)
					if !ok {
						t.Fatalf("Wait not woken by %s", wk.name)
					}
					if !v {
						t.Fatalf("Wait woken by %s returned false", wk.name)
					}
				}
				if timeout > 0 && time.Since(start) > timeout/2 {
					t.Fatalf("Wait woken only after %v", time.Since(start))
				}
				if f.State() != wk.state {
					t.Fatalf("state = %v, want %v", f.State(), wk.state)
				}
			})
		}
	}
}

// A Wait that is not woken stays blocked: SetRunning does not wake it, and a
// negative timeout really waits past any short delay.
func TestFutureWaitNotWokenByRunning(t *testing.T) {
	f := NewFuture()
	res := make(chan bool, 2)
	go func() { res <- f.Wait(-1) }()
	go func() { res <- f.Wait(mustHappen) }()
	time.Sleep(5 * time.Millisecond)
	f.SetRunningOrNotifyCancel()
	f.Force(Running, false)
	if _, ok := received(res, mustNotYet); ok {
		t.Fatal("Wait returned on a RUNNING future")
	}
	f.Finish(false)
	for i := 0; i < 2; i++ {
		if v, ok := received(res, mustHappen); !ok || !v {
			t.Fatalf("Wait after Finish: got %v, received %v", v, ok)
		}
	}
}

func TestFutureForce(t *testing.T) {
	for _, target := range []State{Pending, Running, Cancelled, CancelledAndNotified, Finished} {
		for _, failed := range []bool{false, true} {
			target, failed := target, failed
			t.Run(fmt.Sprintf("%v/failed=%v", target, failed), func(t *testing.T) {
				f := NewFuture()
				w := NewWaiter(AsCompleted)
				w.Register(f, 9)
				fex := NewWaiter(FirstException)
				fex.Register(f, 0)
				fex.AddExternal(1)
				w.Arm()
				fex.Arm()
				f.Force(target, failed)
				if f.State() != target {
					t.Fatalf("state = %v, want %v", f.State(), target)
				}
				if f.Failed() != failed {
					t.Fatalf("Failed() = %v, want %v", f.Failed(), failed)
				}
				if f.Wait(0) != target.Done() {
					t.Fatalf("Wait(0) = %v, want %v", !target.Done(), target.Done())
				}
				got := w.Take()
				if target.Notified() {
					if len(got) != 1 || got[0] != 9 {
						t.Fatalf("Force(%v) notified %v, want [9]", target, got)
					}
					wantFire := target == Finished && failed
					if fex.Wait(0) != wantFire {
						t.Fatalf("FIRST_EXCEPTION fired=%v, want %v", !wantFire, wantFire)
					}
				} else if len(got) != 0 {
					t.Fatalf("Force(%v) notified %v, want none", target, got)
				}
				// Forcing the same notified state again does not re-notify.
				f.Force(target, failed)
				if again := w.Take(); len(again) != 0 {
					t.Fatalf("second Force(%v) notified %v", target, again)
				}
			})
		}
	}
}

// Force back to a live state makes later waits block again, and a later
// completion wakes them.
func TestFutureForceBackToLive(t *testing.T) {
	for _, live := range []State{Pending, Running} {
		live := live
		t.Run(live.String(), func(t *testing.T) {
			f := NewFuture()
			if f.Wait(0) {
				t.Fatal("pending future done")
			}
			f.Finish(false) // closes the done channel made by Wait(0)
			if !f.Wait(0) {
				t.Fatal("finished future not done")
			}
			f.Force(live, false)
			if f.Wait(0) {
				t.Fatalf("Wait(0) after Force(%v) = true", live)
			}
			if f.Wait(mustNotYet / 5) {
				t.Fatalf("Wait(timeout) after Force(%v) = true", live)
			}
			res := make(chan bool, 1)
			go func() { res <- f.Wait(-1) }()
			if _, ok := received(res, mustNotYet); ok {
				t.Fatalf("Wait(-1) returned after Force(%v)", live)
			}
			if err := f.Finish(true); err != nil {
				t.Fatalf("Finish after Force(%v): %v", live, err)
			}
			if v, ok := received(res, mustHappen); !ok || !v {
				t.Fatal("Wait(-1) not woken by Finish after Force back to live")
			}
			if !f.Failed() {
				t.Fatal("Failed() = false after Finish(true)")
			}
		})
	}

	// Forced back before any done channel existed.
	f := NewFuture()
	f.Cancel()
	f.Force(Pending, false)
	if f.Wait(0) {
		t.Fatal("Wait(0) = true after Cancel then Force(PENDING)")
	}
	if c, tr := f.Cancel(); !c || !tr {
		t.Fatalf("Cancel after Force(PENDING) = %v, %v", c, tr)
	}
	if !f.Wait(0) {
		t.Fatal("Wait(0) = false after second Cancel")
	}
}

// Force(CANCELLED) wakes Wait but does not notify; a later
// SetRunningOrNotifyCancel notifies as usual.
func TestFutureForceCancelledThenNotify(t *testing.T) {
	f := NewFuture()
	w := NewWaiter(AllCompleted)
	w.Register(f, 0)
	w.Arm()
	f.Force(Cancelled, false)
	if w.Wait(0) || w.Finished() != 0 {
		t.Fatal("Force(CANCELLED) notified the waiter")
	}
	if ok, err := f.SetRunningOrNotifyCancel(); ok || err != nil {
		t.Fatalf("SetRunning after Force(CANCELLED) = %v, %v", ok, err)
	}
	if !w.Wait(0) {
		t.Fatal("notify after Force(CANCELLED) did not fire the waiter")
	}
}

func TestFutureAddListener(t *testing.T) {
	for _, st := range startStates {
		st := st
		t.Run(st.name, func(t *testing.T) {
			f := NewFuture()
			st.natural(t, f)
			done, _ := f.AddListener(0)
			if done != st.state.Done() {
				t.Fatalf("AddListener() = %v, want %v", done, st.state.Done())
			}
			// An owner is stored while a notification may still come
			// (CANCELLED is done but not yet notified).
			if _, stored := f.AddListener(1); stored != !st.state.Notified() {
				t.Fatalf("AddListener(owner) stored = %v in %v", stored, st.state)
			}
			// Still recorded once the future completes.
			if !done {
				f.Finish(false)
				if o := f.TakeOwner(); o != 1 {
					t.Fatalf("TakeOwner() after Finish = %d, want the stored owner 1", o)
				}
				if d, _ := f.AddListener(0); !d {
					t.Fatal("AddListener() on a finished future = false")
				}
			}
		})
	}
}

func TestFuturePayload(t *testing.T) {
	f := NewFuture()
	want := []byte("pickled result")
	if err := f.FinishPayload(false, want); err != nil {
		t.Fatal(err)
	}
	if f.State() != Finished || f.Failed() {
		t.Fatalf("state %v failed %v", f.State(), f.Failed())
	}
	// A rejected FinishPayload must not overwrite the stored bytes.
	if err := f.FinishPayload(true, []byte("other")); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("second FinishPayload error = %v", err)
	}
	if f.Failed() {
		t.Fatal("rejected FinishPayload changed Failed()")
	}
	if got := f.TakePayload(); !bytes.Equal(got, want) {
		t.Fatalf("TakePayload = %q, want %q", got, want)
	}
	if got := f.TakePayload(); got != nil {
		t.Fatalf("second TakePayload = %q, want nil", got)
	}

	g := NewFuture()
	g.SetRunningOrNotifyCancel()
	exc := []byte("pickled exception")
	if err := g.FinishPayload(true, exc); err != nil {
		t.Fatal(err)
	}
	if !g.Failed() {
		t.Fatal("FinishPayload(true) not failed")
	}
	if got := g.TakePayload(); !bytes.Equal(got, exc) {
		t.Fatalf("TakePayload = %q, want %q", got, exc)
	}

	h := NewFuture()
	h.Cancel()
	if err := h.FinishPayload(false, want); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("FinishPayload on CANCELLED error = %v", err)
	}
	if got := h.TakePayload(); got != nil {
		t.Fatalf("payload stored by a rejected FinishPayload: %q", got)
	}

	k := NewFuture()
	k.Finish(false)
	if got := k.TakePayload(); got != nil {
		t.Fatalf("Finish stored payload %q", got)
	}
}

// Concurrent readers and writers on one future, for the race detector.
func TestFutureConcurrentAccess(t *testing.T) {
	f := NewFuture()
	stop := make(chan struct{})
	wait := goN(4, func(int) {
		for !isClosed(stop) {
			_ = f.State()
			_ = f.Failed()
			_ = f.TakeOwner()
			f.Wait(0)
		}
	})
	f.AddListener(0)
	f.SetRunningOrNotifyCancel()
	f.FinishPayload(false, []byte("p"))
	if !f.Wait(mustHappen) {
		t.Fatal("not done")
	}
	close(stop)
	wait()
}
