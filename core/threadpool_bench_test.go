package core

import (
	"testing"

	"github.com/gofutures/gofutures/core/stats"
)

// The thread pool's per-task path (Submit, then a worker takes the task and
// reports it done), for measuring what statistics add to it:
//   go test -run x -bench PoolSubmitTake ./core

func BenchmarkPoolSubmitTake(b *testing.B) {
	p := NewThreadPool(1)
	w := p.NewTokenWorker(1) // never parks: a task is always queued
	prev := stats.OutcomeNone
	for i := 0; i < b.N; i++ {
		p.Submit(Task(1), NewFuture())
		p.NextOrPark(w, prev)
		prev = stats.OutcomeOK
	}
}
