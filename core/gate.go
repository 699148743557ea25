package core

import (
	"context"
	"time"

	"golang.org/x/sync/semaphore"
)

// Gate bounds how many tasks a pool holds submitted and not yet done
// (backpressure, gh-73781). A submit takes a slot (Acquire) before the task
// is queued; the task's future gives it back on its first move to a done
// state (Future.SetGate), however it gets there: result, exception,
// cancellation, a broken pool. Waiters are served first come, first served.
type Gate struct {
	sem *semaphore.Weighted
}

// NewGate returns a gate of n slots (n >= 1).
func NewGate(n int) *Gate { return &Gate{sem: semaphore.NewWeighted(int64(n))} }

// Acquire takes a slot, waiting at most timeout for one (0: no wait;
// negative: no limit). It reports whether it got one.
func (g *Gate) Acquire(timeout time.Duration) bool {
	if g.sem.TryAcquire(1) {
		return true
	}
	if timeout == 0 {
		return false
	}
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return g.sem.Acquire(ctx, 1) == nil
}

// Release gives a slot back.
func (g *Gate) Release() { g.sem.Release(1) }
