package core

import "github.com/gofutures/gofutures/core/stats"

// Statistics of the process pool (core/stats). procpool.go calls these,
// and the counters directly, at its hook points, each marked "// stats":
// Submit (submitted), pumpLocked (dispatched, or cancelled while queued),
// complete (finished), breakLocked (queued and in-flight tasks failed),
// Shutdown(cancel) (cancelled), AddWorker (worker started), workerGone
// (worker exited: replaced or died).

// Stats returns the pool's counters.
func (p *ProcPool) Stats() *stats.Pool { return p.stats }

// Close is called when the pool's handle is released: its figures move to
// the process-wide totals (and stay readable through Stats).
func (p *ProcPool) Close() { p.stats.Close() }

// statsDispatched: t was written to a worker (p.mu held).
func (p *ProcPool) statsDispatched(t *procTask) {
	t.start = stats.Now()
	p.stats.Started(t.enq, t.start)
}

// statsFinished: a worker returned t's result or exception, or t failed
// in flight because the pool broke. t.start was set under p.mu, which the
// caller has taken since.
func (p *ProcPool) statsFinished(t *procTask, failed bool) {
	o := stats.OutcomeOK
	if failed {
		o = stats.OutcomeFailed
	}
	p.stats.Finished(o, t.start, stats.Now())
}

// statsWorkerGone: a worker process exited (p.mu held). clean: it was told
// to quit, or sent its last frame (max_worker_memory), and had nothing in
// flight. A clean exit from a pool neither shut down nor broken is a
// retirement (max_tasks_per_child or max_worker_memory; replaced when work
// needs it); an unclean one is a death.
func (p *ProcPool) statsWorkerGone(clean bool) {
	p.stats.WorkerExited(clean && !p.shutdown && !p.broken, !clean)
}
