package core

import (
	"errors"
	"sync"

	"github.com/gofutures/gofutures/core/stats"
)

// Task is an opaque task reference. The thread pool never looks inside: the
// binding layer stores the address of the object that owns the callable and
// its future, and owns one reference per queued task.
type Task uintptr

// ErrShutdown is returned by Submit after Shutdown.
var ErrShutdown = errors.New("cannot schedule new futures after shutdown")

// ErrBroken is returned by Submit once a worker's initializer failed.
var ErrBroken = errors.New("A thread initializer failed, the thread pool is not usable anymore")

// ThreadPool is the scheduler of a ThreadPoolExecutor: a FIFO of tasks, the
// count of worker threads, and a stack of idle workers to wake. The worker
// threads themselves are made by the caller (Submit says when one is
// needed) and run a loop around Next.
//
// Like the stdlib it starts a worker only when no idle one can take the
// task, up to max workers, and lets queued tasks run before workers exit at
// shutdown.
type ThreadPool struct {
	mu       sync.Mutex
	queue    taskQueue
	max      int
	workers  int       // started, not yet exited
	idle     []*Worker // parked in Next, most recent last
	shutdown bool      // Shutdown was called
	exiting  bool      // the interpreter is exiting: workers leave once the queue is empty
	broken   bool
	stats    *stats.Pool // counted outside mu: atomics only
}

// Worker is one worker thread's parking place: a channel, or a token
// posted outside Go (park.go).
type Worker struct {
	wake   chan struct{}
	token  uintptr
	parked bool
	start  int64 // stats.Now() when it took its current task (its own thread only)
}

// NewThreadPool returns a scheduler for at most max workers.
func NewThreadPool(max int) *ThreadPool {
	return &ThreadPool{max: max, stats: stats.NewPool(stats.KindThread)}
}

// Stats returns the pool's counters.
func (p *ThreadPool) Stats() *stats.Pool { return p.stats }

// Close is called when the pool's handle is released: its figures move to
// the process-wide totals (and stay readable through Stats).
func (p *ThreadPool) Close() { p.stats.Close() }

// NewWorker returns a parking place for a worker thread that has started.
func (p *ThreadPool) NewWorker() *Worker {
	p.stats.WorkerStarted()
	return &Worker{wake: make(chan struct{}, 1)}
}

// NewTokenWorker is NewWorker for a thread that parks outside Go, on tok,
// between its calls to NextOrPark.
func (p *ThreadPool) NewTokenWorker(tok uintptr) *Worker {
	p.stats.WorkerStarted()
	return &Worker{token: tok}
}

// wakeLocked takes w out of the idle stack's bookkeeping and wakes it.
func (p *ThreadPool) wakeLocked(w *Worker) {
	w.parked = false
	if w.token != 0 {
		waker(w.token)
	} else {
		w.wake <- struct{}{}
	}
}

// taken counts the end of w's previous task (prev) and, if ok, the start of
// the task e it has just taken, both at now.
func (p *ThreadPool) taken(w *Worker, prev stats.Outcome, e queued, ok bool, now int64) {
	if prev != stats.OutcomeNone {
		p.stats.Finished(prev, w.start, now)
	}
	if ok {
		w.start = now
		p.stats.Started(e.at, now)
	}
}

// Submit queues t. It returns spawn=true when the caller must start one more
// worker thread (no worker was idle and fewer than max exist).
func (p *ThreadPool) Submit(t Task) (spawn bool, err error) {
	at := stats.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken {
		return false, ErrBroken
	}
	if p.shutdown || p.exiting {
		return false, ErrShutdown
	}
	p.queue.push(queued{t, at})
	p.stats.Submitted(p.queue.size)
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.wakeLocked(w)
		return false, nil
	}
	if p.workers < p.max {
		p.workers++
		return true, nil
	}
	return false, nil
}

// SpawnFailed undoes the worker count of a Submit whose thread could not be
// started.
func (p *ThreadPool) SpawnFailed() {
	p.mu.Lock()
	p.workers--
	p.mu.Unlock()
}

// TryNext pops a queued task for w without blocking. prev is how w's
// previous task ended (stats.OutcomeNone if already reported). A worker that
// finds none calls NextOrPark at once, with the GIL still held (so no
// submit comes in between: it parks as idle, and the next submit wakes it
// rather than start a thread, as the stdlib's idle semaphore does).
func (p *ThreadPool) TryNext(w *Worker, prev stats.Outcome) (Task, bool) {
	now := stats.Now()
	p.mu.Lock()
	e, ok := p.queue.pop()
	p.mu.Unlock()
	p.taken(w, prev, e, ok, now)
	return e.t, ok
}

// Next pops the next task, parking w (a channel worker) while the queue is
// empty. It returns ok=false when the pool is shut down (or broken) and the
// queue is drained: the worker then exits, and is no longer counted. prev is
// as for TryNext.
func (p *ThreadPool) Next(w *Worker, prev stats.Outcome) (Task, bool) {
	for {
		t, st := p.NextOrPark(w, prev)
		if st != 0 {
			return t, st > 0
		}
		prev = stats.OutcomeNone
		<-w.wake
	}
}

// NextOrPark pops the next task (st 1), or tells the worker to exit (st -1:
// shut down or broken, and the queue drained; it is no longer counted), or
// records w as idle (st 0): the caller then waits on w's token or channel
// and calls again. prev is as for TryNext.
func (p *ThreadPool) NextOrPark(w *Worker, prev stats.Outcome) (Task, int) {
	now := stats.Now()
	if prev != stats.OutcomeNone {
		p.stats.Finished(prev, w.start, now)
	}
	p.mu.Lock()
	if e, ok := p.queue.pop(); ok {
		p.mu.Unlock()
		p.taken(w, stats.OutcomeNone, e, true, now)
		return e.t, 1
	}
	if p.shutdown || p.exiting || p.broken {
		if p.exiting {
			// As the stdlib's worker does when it leaves at interpreter
			// exit: from now on the pool counts as shut down.
			p.shutdown = true
		}
		p.workers--
		p.mu.Unlock()
		p.stats.WorkerExited(false, false)
		return 0, -1
	}
	w.parked = true
	p.idle = append(p.idle, w)
	p.mu.Unlock()
	return 0, 0
}

// Shutdown stops new submissions and wakes every idle worker so that it
// exits once the queue is empty. With cancel, the queued tasks are removed
// and returned for the caller to cancel.
func (p *ThreadPool) Shutdown(cancel bool) []Task {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shutdown = true
	var out []Task
	if cancel {
		out = p.queue.drain()
		p.stats.LeftQueue(len(out), false)
	}
	p.wakeAllLocked()
	return out
}

// Exit lets the workers leave once the queue is empty, as at interpreter
// exit, without counting as a Shutdown call.
func (p *ThreadPool) Exit() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.exiting = true
	p.wakeAllLocked()
}

// Break marks the pool broken (a worker initializer failed) and returns the
// queued tasks, which the caller fails with BrokenThreadPool.
func (p *ThreadPool) Break() []Task {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.broken = true
	out := p.queue.drain()
	p.stats.LeftQueue(len(out), true)
	p.wakeAllLocked()
	return out
}

// WorkerExited is called by a worker that leaves without Next telling it to
// (its initializer failed).
func (p *ThreadPool) WorkerExited() {
	p.mu.Lock()
	p.workers--
	p.mu.Unlock()
}

func (p *ThreadPool) wakeAllLocked() {
	for _, w := range p.idle {
		p.wakeLocked(w)
	}
	p.idle = nil
}

// PoolCounts is a snapshot of a pool's scheduler.
type PoolCounts struct {
	Queued, Workers, Idle int
	Shutdown, Broken      bool
}

// Counts returns a consistent snapshot.
func (p *ThreadPool) Counts() PoolCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolCounts{p.queue.len(), p.workers, len(p.idle), p.shutdown, p.broken}
}

// queued is a task in the queue, with its stats.Now() at submission.
type queued struct {
	t  Task
	at int64
}

// taskQueue is a FIFO ring buffer.
type taskQueue struct {
	buf        []queued
	head, size int
}

func (q *taskQueue) len() int { return q.size }

func (q *taskQueue) push(t queued) {
	if q.size == len(q.buf) {
		n := 2 * len(q.buf)
		if n == 0 {
			n = 16
		}
		nb := make([]queued, n)
		k := copy(nb, q.buf[q.head:])
		copy(nb[k:], q.buf[:q.head])
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = t
	q.size++
}

func (q *taskQueue) pop() (queued, bool) {
	if q.size == 0 {
		return queued{}, false
	}
	t := q.buf[q.head]
	q.buf[q.head] = queued{}
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	if q.size == 0 && len(q.buf) > 1024 {
		q.buf, q.head = nil, 0 // give a burst's memory back
	}
	return t, true
}

func (q *taskQueue) drain() []Task {
	out := make([]Task, 0, q.size)
	for {
		t, ok := q.pop()
		if !ok {
			return out
		}
		out = append(out, t.t)
	}
}
