// Package core is the engine of gofutures: the future state machine and its
// waiters, the thread-pool scheduler and the process-pool dispatcher. It is
// pure Go: it knows nothing of cgo or Python. Values that belong to Python
// (results, callables) never live here; a Future carries only its state, the
// waiters registered on it, and, for process pools, the result bytes.
package core

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/gofutures/gofutures/core/stats"
)

// State is a future's state, with the same five values and the same
// transitions as concurrent.futures._base.
type State uint32

const (
	Pending State = iota
	Running
	Cancelled
	CancelledAndNotified
	Finished
)

var stateNames = [...]string{"PENDING", "RUNNING", "CANCELLED", "CANCELLED_AND_NOTIFIED", "FINISHED"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "UNKNOWN"
}

// Done reports whether s is one of the states in which Future.done() is true.
func (s State) Done() bool { return s >= Cancelled }

// Notified reports whether s is one of the states that wait() and
// as_completed() count as completed (CANCELLED is not: its waiters are told
// only when the executor calls SetRunningOrNotifyCancel).
func (s State) Notified() bool { return s >= CancelledAndNotified }

// Outcome is what a waiter is told about a future that completed.
type Outcome uint8

const (
	OutcomeResult Outcome = iota
	OutcomeException
	OutcomeCancelled
)

// ErrInvalidState is returned by Finish when the future is already finished
// or cancelled (the stdlib raises InvalidStateError then).
var ErrInvalidState = errors.New("invalid state")

// ErrUnexpectedState is returned by SetRunningOrNotifyCancel when the future
// is neither PENDING nor CANCELLED (the stdlib raises RuntimeError then).
var ErrUnexpectedState = errors.New("future in unexpected state")

// Future is the state of one concurrent.futures.Future.
//
// Every transition happens under mu. state is also stored atomically so that
// State() is a single load.
type Future struct {
	mu     sync.Mutex
	state  atomic.Uint32
	failed bool // finished through SetException
	closed bool // moved to a Done state: tokens posted, gate given back
	// wait()/as_completed() registrations, dropped once notified: the first
	// inline (w0.w == nil: none), so that one wait() over many futures
	// allocates nothing per future; any more in waiters.
	w0      waiterRef
	waiters []waiterRef

	// owner is an opaque word (the address of the Python object, holding
	// one reference) stored for futures that Go completes without the GIL
	// (process pools), once the Python side needs to hear of the completion
	// (done-callbacks, the stdlib's _condition/_waiters protocol). It is
	// taken exactly once (TakeOwner): by the pool when it is done with the
	// task, or by the C side when it finishes the future itself.
	owner uintptr

	// Payload holds a process-pool result (pickled bytes) until a Python
	// thread decodes it. Guarded by mu.
	payload []byte

	// gate holds the backpressure slot this future's task took; it is
	// given back on the first move to a done state.
	gate *Gate

	// tokens of threads parked outside Go until the future is done (park.go).
	tokens []uintptr

	// queuedIn is the statistics of the pool whose queue holds this
	// future's task (nil once taken out): a cancel() while it is queued
	// counts the task as cancelled at once, and leftQueue records that it
	// was, so the pool does not count it again when it takes it out.
	queuedIn  *stats.Pool
	leftQueue bool
}

type waiterRef struct {
	w   *Waiter
	idx int
}

// NewFuture returns a PENDING future.
func NewFuture() *Future { return &Future{} }

// State returns the current state.
func (f *Future) State() State { return State(f.state.Load()) }

// Failed reports whether the future finished with an exception.
func (f *Future) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

func (f *Future) setState(s State) { f.state.Store(uint32(s)) }

// wakeLocked runs the first move to a Done state: parked threads are
// posted and the backpressure slot is given back. mu held.
func (f *Future) wakeLocked() {
	if !f.closed {
		f.closed = true
		if f.tokens != nil {
			f.postTokensLocked()
		}
		if g := f.gate; g != nil {
			f.gate = nil
			g.Release()
		}
	}
}

// SetGate hands the future the backpressure slot its task took: it is
// given back when the future is done, or now if it is done already.
func (f *Future) SetGate(g *Gate) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		g.Release()
		return
	}
	f.gate = g
}

// notifyLocked tells every registered waiter and forgets them: a future is
// notified at most once (CANCELLED -> CANCELLED_AND_NOTIFIED, or -> FINISHED).
func (f *Future) notifyLocked(o Outcome) {
	if f.w0.w != nil {
		f.w0.w.notify(f.w0.idx, o)
		f.w0 = waiterRef{}
	}
	for _, r := range f.waiters {
		r.w.notify(r.idx, o)
	}
	f.waiters = nil
}

// Cancel moves a PENDING future to CANCELLED. It returns whether the future
// is cancelled afterwards, and whether this call cancelled it (the caller
// then runs the done-callbacks). A task still queued counts as cancelled in
// its pool's statistics from now on.
func (f *Future) Cancel() (cancelled, transitioned bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch f.State() {
	case Running, Finished:
		return false, false
	case Cancelled, CancelledAndNotified:
		return true, false
	}
	f.setState(Cancelled)
	if s := f.queuedIn; s != nil {
		f.queuedIn = nil
		f.leftQueue = true
		s.LeftQueue(1, false)
	}
	f.wakeLocked()
	return true, true
}

// Queued records that the future's task is in the queue of the pool whose
// statistics are s (before the task is visible to any worker).
func (f *Future) Queued(s *stats.Pool) {
	f.mu.Lock()
	f.queuedIn = s
	f.mu.Unlock()
}

// Dequeued is called by the pool that takes the future's task out of its
// queue (to run it, or to drop it): it reports whether the task was
// cancelled there and so is counted already.
func (f *Future) Dequeued() (counted bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queuedIn = nil
	return f.leftQueue
}

// SetRunningOrNotifyCancel moves PENDING to RUNNING (true), or CANCELLED to
// CANCELLED_AND_NOTIFIED, telling the waiters (false). Any other state is an
// error, as in the stdlib.
func (f *Future) SetRunningOrNotifyCancel() (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch f.State() {
	case Cancelled:
		f.setState(CancelledAndNotified)
		f.notifyLocked(OutcomeCancelled)
		return false, nil
	case Pending:
		f.setState(Running)
		return true, nil
	}
	return false, ErrUnexpectedState
}

// Finish moves a PENDING or RUNNING future to FINISHED, with a result
// (failed=false) or an exception (failed=true), and tells its waiters.
func (f *Future) Finish(failed bool) error {
	return f.FinishPayload(failed, nil)
}

// FinishPayload is Finish that also stores the result bytes.
func (f *Future) FinishPayload(failed bool, payload []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.State().Done() {
		return ErrInvalidState
	}
	f.failed = failed
	f.payload = payload
	f.setState(Finished)
	if failed {
		f.notifyLocked(OutcomeException)
	} else {
		f.notifyLocked(OutcomeResult)
	}
	f.wakeLocked()
	return nil
}

// Force sets the state directly, for code that assigns the stdlib's private
// _state attribute. Waiters are told if the new state is a notified one.
func (f *Future) Force(s State, failed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = failed
	f.setState(s)
	if s.Done() {
		f.wakeLocked()
	} else if f.closed {
		// Back to a live state: later waits must park again.
		f.closed = false
	}
	switch s {
	case CancelledAndNotified:
		f.notifyLocked(OutcomeCancelled)
	case Finished:
		if failed {
			f.notifyLocked(OutcomeException)
		} else {
			f.notifyLocked(OutcomeResult)
		}
	}
}

// TakePayload returns the stored result bytes and forgets them.
func (f *Future) TakePayload() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.payload
	f.payload = nil
	return p
}

// AddListener records that the Python side must hear of what happens to
// the future: a non-zero owner is stored, if none is yet, unless the future
// is past its last notification (FINISHED or CANCELLED_AND_NOTIFIED; a
// CANCELLED one still has its notification to come). stored reports it:
// the caller then owes the owner's reference to whoever takes it back.
// done reports whether the future is done (the caller then runs a late
// callback at once, as the stdlib does).
func (f *Future) AddListener(owner uintptr) (done, stored bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.State()
	if owner != 0 && f.owner == 0 && !s.Notified() {
		f.owner = owner
		stored = true
	}
	return s.Done(), stored
}

// TakeOwner returns the stored owner word, if any, and forgets it.
func (f *Future) TakeOwner() uintptr {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.owner
	f.owner = 0
	return o
}

// PayloadLen returns the size of the stored result bytes.
func (f *Future) PayloadLen() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.payload)
}
