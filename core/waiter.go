package core

import (
	"sync"
	"time"
)

// WaitKind selects when a Waiter fires, as the return_when argument of
// concurrent.futures.wait (plus the as_completed mode).
type WaitKind int

const (
	AsCompleted WaitKind = iota
	FirstCompleted
	FirstException
	AllCompleted
)

// Waiter is one registration that covers a whole set of futures: wait() and
// as_completed() make one, register it on every future of the set, and block
// on it. Members are named by their index in the caller's set, so futures
// that live outside this package (plain concurrent.futures.Future objects,
// bridged by the caller) can report through Notify too.
//
// Its firing rules are those of the stdlib's _AsCompletedWaiter,
// _FirstCompletedWaiter and _AllCompletedWaiter, except that a member counts
// once however often it reports (those count every call, so a future that
// notifies twice makes the stdlib's wait() return early).
type Waiter struct {
	mu       sync.Mutex
	kind     WaitKind
	pending  int      // AllCompleted/FirstException: members not yet notified (+1 until Arm)
	finished []int    // indices in completion order, not yet taken
	seen     []uint64 // bit idx: member idx was notified (each counts once)
	fired    bool
	signal   chan struct{} // holds a token while fired
	regs     []*Future     // futures this waiter is registered on
}

// NewWaiter returns a waiter of the given kind. Add members (RegisterAll,
// AddExternal), then Arm.
func NewWaiter(kind WaitKind) *Waiter {
	return &Waiter{kind: kind, pending: 1, signal: make(chan struct{}, 1)}
}

// RegisterAll registers w on every non-nil fs[i] as member i, with w's
// lock taken twice for the whole set rather than once per member: every
// member is counted pending first (w cannot fire for it before Arm), and
// the ones completed already are uncounted at the end. done(i, o) is
// called for each of those, which are not registered.
func (w *Waiter) RegisterAll(fs []*Future, done func(i int, o Outcome)) {
	n := 0
	for _, f := range fs {
		if f != nil {
			n++
		}
	}
	w.mu.Lock()
	w.pending += n
	w.growSeenLocked(len(fs) - 1)
	w.mu.Unlock()
	regs := make([]*Future, 0, n)
	already := 0
	for i, f := range fs {
		if f == nil {
			continue
		}
		f.mu.Lock()
		if s := f.State(); s.Notified() {
			o := OutcomeResult
			if s == CancelledAndNotified {
				o = OutcomeCancelled
			} else if f.failed {
				o = OutcomeException
			}
			f.mu.Unlock()
			already++
			done(i, o)
			continue
		}
		if f.w0.w == nil {
			f.w0 = waiterRef{w, i}
		} else {
			f.waiters = append(f.waiters, waiterRef{w, i})
		}
		f.mu.Unlock()
		regs = append(regs, f)
	}
	w.mu.Lock()
	w.pending -= already
	w.regs = append(w.regs, regs...)
	w.mu.Unlock()
}

// AddExternal counts n members that report through Notify rather than
// through a registered Future.
func (w *Waiter) AddExternal(n int) {
	w.mu.Lock()
	w.pending += n
	w.mu.Unlock()
}

// Arm ends registration: from now on an AllCompleted waiter may fire when
// its pending count reaches zero.
func (w *Waiter) Arm() {
	w.mu.Lock()
	w.pending--
	if w.pending <= 0 && (w.kind == AllCompleted || w.kind == FirstException) {
		w.fireLocked()
	}
	w.mu.Unlock()
}

func (w *Waiter) fireLocked() {
	if !w.fired {
		w.fired = true
		select {
		case w.signal <- struct{}{}:
		default:
		}
	}
}

// Notify reports that member idx completed. A member counts once: a
// second report of the same idx is ignored (a concurrent.futures.Future
// subclass bridged through Notify may call its waiters as often as it
// likes; counting it again would fire an AllCompleted waiter early and let
// finished outgrow the member count).
func (w *Waiter) Notify(idx int, o Outcome) { w.notify(idx, o) }

// growSeenLocked makes room in seen for member idx.
func (w *Waiter) growSeenLocked(idx int) {
	if need := idx>>6 + 1; need > len(w.seen) {
		w.seen = append(w.seen, make([]uint64, need-len(w.seen))...)
	}
}

func (w *Waiter) notify(idx int, o Outcome) {
	if idx < 0 {
		return // not a member
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.growSeenLocked(idx)
	bit := uint64(1) << (idx & 63)
	if w.seen[idx>>6]&bit != 0 {
		return // counted already
	}
	w.seen[idx>>6] |= bit
	w.finished = append(w.finished, idx)
	switch w.kind {
	case AsCompleted, FirstCompleted:
		w.fireLocked()
	case FirstException:
		if o == OutcomeException {
			w.fireLocked()
			return
		}
		fallthrough
	case AllCompleted:
		w.pending--
		if w.pending <= 0 {
			w.fireLocked()
		}
	}
}

// Wait blocks until the waiter fires or the timeout passes (negative: no
// limit). It reports whether it fired.
func (w *Waiter) Wait(timeout time.Duration) bool {
	w.mu.Lock()
	fired := w.fired
	w.mu.Unlock()
	if fired {
		return true
	}
	if timeout == 0 {
		return false
	}
	if timeout < 0 {
		<-w.signal
		w.signal <- struct{}{} // keep the token: fired stays observable
		return true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-w.signal:
		w.signal <- struct{}{}
		return true
	case <-t.C:
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.fired
	}
}

// TakeAtMost returns the members notified since the last take, in
// completion order, at most max of them (max < 0: all), and re-arms the
// waiter (the stdlib's event.clear()) once none is left. Members beyond max
// stay for the next take and the waiter stays fired. Since each member is
// counted once, a caller with room for every member never leaves any.
func (w *Waiter) TakeAtMost(max int) []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.finished
	if max >= 0 && len(out) > max {
		w.finished = append([]int(nil), out[max:]...)
		return out[:max:max]
	}
	w.finished = nil
	if w.fired {
		w.fired = false
		select {
		case <-w.signal:
		default:
		}
	}
	return out
}

// Close unregisters the waiter from every future it is still registered on.
func (w *Waiter) Close() {
	w.mu.Lock()
	regs := w.regs
	w.regs = nil
	w.mu.Unlock()
	for _, f := range regs {
		f.mu.Lock()
		if f.w0.w == w {
			f.w0 = waiterRef{}
		}
		ws := f.waiters
		for i := 0; i < len(ws); i++ {
			if ws[i].w == w {
				ws[i] = ws[len(ws)-1]
				ws[len(ws)-1] = waiterRef{}
				ws = ws[:len(ws)-1]
				i--
			}
		}
		if len(ws) == 0 {
			ws = nil
		}
		f.waiters = ws
		f.mu.Unlock()
	}
}
