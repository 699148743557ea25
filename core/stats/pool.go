// Package stats counts what an executor's pool does — tasks, workers, queue
// depth, queue-wait and run-time latency — with a few atomic operations per
// task, and reads consistent snapshots per pool and process-wide.
//
// Counters only grow. A task passes Submitted -> Started -> Finished, or
// leaves the queue unrun (LeftQueue: cancelled or failed there). A snapshot
// reads the counters in the reverse order of that flow, so every task it
// sees in a later stage was also seen in the earlier ones, and derives
//
//	queued  = submitted - started - left the queue
//	running = started - finished
//
// hence completed + failed + cancelled + running + queued == submitted in
// every snapshot, with no lock on the hot path.
package stats

import "sync/atomic"

// Kind of pool.
const (
	KindThread  = "thread"
	KindProcess = "process"
)

// Outcome of a task that left a worker.
type Outcome int

const (
	OutcomeNone      Outcome = iota // no task to report
	OutcomeOK                       // returned a result
	OutcomeFailed                   // raised (or the pool broke under it)
	OutcomeCancelled                // found cancelled when taken from the queue: not run
)

// Pool holds the counters of one executor's pool. Its methods are safe for
// concurrent use and never block.
type Pool struct {
	id   int64
	kind string
	name atomic.Pointer[string]

	// Written by submitting threads; the rest by workers. A cache line
	// apart, so that the two sides do not take each other's line per task.
	_         [64]byte
	submitted atomic.Int64
	highWater atomic.Int64
	_         [64]byte
	started   atomic.Int64 // taken from the queue by a worker
	completed atomic.Int64
	failedRun atomic.Int64
	cancelRun atomic.Int64 // taken from the queue but found cancelled
	cancelQ   atomic.Int64 // removed from the queue, cancelled
	failedQ   atomic.Int64 // removed from the queue, failed (broken pool)
	wStarted  atomic.Int64
	wExited   atomic.Int64
	wReplaced atomic.Int64
	wDied     atomic.Int64
	// Made on the first task (a pool that never runs one costs no 15 KiB).
	wait, run lazyHistogram
	// The counters above, indexed as raw.n: in read's load order.
	counters [nCounters]*atomic.Int64
}

// The counters as read loads them, in this order: a task's stages in
// reverse flow order (finished, started, left the queue, submitted), then
// the workers' exits before their starts, so alive is never negative.
const (
	cCompleted = iota
	cFailedRun
	cCancelRun
	cStarted
	cCancelQ
	cFailedQ
	cSubmitted
	cWReplaced
	cWDied
	cWExited
	cWStarted
	cHighWater
	nCounters
)

// indexCounters fills p.counters (once, before the pool is shared).
func (p *Pool) indexCounters() {
	p.counters = [nCounters]*atomic.Int64{
		cCompleted: &p.completed, cFailedRun: &p.failedRun, cCancelRun: &p.cancelRun,
		cStarted: &p.started, cCancelQ: &p.cancelQ, cFailedQ: &p.failedQ,
		cSubmitted: &p.submitted, cWReplaced: &p.wReplaced, cWDied: &p.wDied,
		cWExited: &p.wExited, cWStarted: &p.wStarted, cHighWater: &p.highWater,
	}
}

// ID is the pool's process-unique id (1, 2, ...).
func (p *Pool) ID() int64 { return p.id }

// Kind is KindThread or KindProcess.
func (p *Pool) Kind() string { return p.kind }

// SetName names the pool (the executor's thread-name prefix, say).
func (p *Pool) SetName(s string) { p.name.Store(&s) }

// Name is the pool's name, "" if none was set.
func (p *Pool) Name() string {
	if s := p.name.Load(); s != nil {
		return *s
	}
	return ""
}

// Submitted counts a task put in the queue; qlen is the queue's length
// with it, for the high-water mark.
func (p *Pool) Submitted(qlen int) {
	p.submitted.Add(1)
	if n := int64(qlen); n > p.highWater.Load() {
		for {
			m := p.highWater.Load()
			if n <= m || p.highWater.CompareAndSwap(m, n) {
				break
			}
		}
	}
}

// Started counts a task taken from the queue by a worker at now, enqueued
// at enq (both from Now: ticks, converted when read).
func (p *Pool) Started(enq, now int64) {
	p.started.Add(1)
	p.wait.get().Record(now - enq)
}

// Finished counts a task that left its worker at now, taken from the queue
// at start. Cancelled tasks did not run: no run time is recorded.
func (p *Pool) Finished(o Outcome, start, now int64) {
	switch o {
	case OutcomeOK:
		p.run.get().Record(now - start)
		p.completed.Add(1)
	case OutcomeFailed:
		p.run.get().Record(now - start)
		p.failedRun.Add(1)
	case OutcomeCancelled:
		p.cancelRun.Add(1)
	}
}

// LeftQueue counts n tasks removed from the queue without running:
// cancelled, or failed (the pool broke).
func (p *Pool) LeftQueue(n int, failed bool) {
	if n == 0 {
		return
	}
	if failed {
		p.failedQ.Add(int64(n))
	} else {
		p.cancelQ.Add(int64(n))
	}
}

// WorkerStarted counts a worker (thread or process) that started.
func (p *Pool) WorkerStarted() { p.wStarted.Add(1) }

// WorkerExited counts a worker that exited. replaced: it left while the
// pool was open (a process pool's max_tasks_per_child), so another may take
// its place; died: it exited abnormally (a crashed process).
func (p *Pool) WorkerExited(replaced, died bool) {
	if replaced {
		p.wReplaced.Add(1)
	}
	if died {
		p.wDied.Add(1)
	}
	p.wExited.Add(1)
}

// Snapshot is a consistent reading of a pool (or of all pools). Latencies
// are in nanoseconds: Wait is submit to leaving the queue, Run is leaving
// the queue to leaving the worker.
type Snapshot struct {
	Submitted, Queued, Running, Completed, Failed, Cancelled   int64
	WorkersAlive, WorkersStarted, WorkersReplaced, WorkersDied int64
	QueueHighWater                                             int64
	Wait, Run                                                  Latency
}

// raw is one ordered read of the counters (n: indexed by the c* constants).
type raw struct {
	n         [nCounters]int64
	wait, run counts
}

// read loads the counters in reverse flow order (see the package doc).
func (p *Pool) read(r *raw) {
	if h := p.wait.p.Load(); h != nil {
		h.addTo(&r.wait)
	}
	if h := p.run.p.Load(); h != nil {
		h.addTo(&r.run)
	}
	for i, c := range &p.counters { // in index order: see the c* constants
		r.n[i] += c.Load()
	}
}

func (r *raw) snapshot() Snapshot {
	k := nsPerTick()
	n := &r.n
	return Snapshot{
		Submitted:       n[cSubmitted],
		Queued:          n[cSubmitted] - n[cStarted] - n[cCancelQ] - n[cFailedQ],
		Running:         n[cStarted] - n[cCompleted] - n[cFailedRun] - n[cCancelRun],
		Completed:       n[cCompleted],
		Failed:          n[cFailedRun] + n[cFailedQ],
		Cancelled:       n[cCancelRun] + n[cCancelQ],
		WorkersAlive:    n[cWStarted] - n[cWExited],
		WorkersStarted:  n[cWStarted],
		WorkersReplaced: n[cWReplaced],
		WorkersDied:     n[cWDied],
		QueueHighWater:  n[cHighWater],
		Wait:            r.wait.latency(k),
		Run:             r.run.latency(k),
	}
}

// Snapshot reads the pool.
func (p *Pool) Snapshot() Snapshot {
	var r raw
	p.read(&r)
	return r.snapshot()
}

// lazyHistogram is a Histogram allocated on first use.
type lazyHistogram struct{ p atomic.Pointer[Histogram] }

func (l *lazyHistogram) get() *Histogram {
	if h := l.p.Load(); h != nil {
		return h
	}
	l.p.CompareAndSwap(nil, new(Histogram))
	return l.p.Load()
}
