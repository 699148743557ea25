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
// needed) and run a loop around NextOrPark, parking on a token of their own
// (park.go) when it finds nothing.
//
// Like the stdlib it starts a worker only when no idle one can take the
// task, up to max workers, and lets queued tasks run before workers exit at
// shutdown.
type ThreadPool struct {
	mu       sync.Mutex
	queue    taskQueue
	max      int
	workers  int       // started, not yet exited
	idle     []*Worker // parked (NextOrPark found nothing), most recent last
	shutdown bool      // Shutdown was called
	exiting  bool      // the interpreter is exiting: workers leave once the queue is empty
	broken   bool
	stats    *stats.Pool // counted outside mu: atomics only
}

// Worker is one worker thread's parking place: a token posted outside Go
// (park.go).
type Worker struct {
	token uintptr
	start int64 // stats.Now() when it took its current task (its own thread only)
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

// NewTokenWorker returns the parking place of a worker thread that has
// started: it parks outside Go, on tok, between its calls to NextOrPark.
func (p *ThreadPool) NewTokenWorker(tok uintptr) *Worker {
	p.stats.WorkerStarted()
	return &Worker{token: tok}
}

// wakeLocked posts an idle worker's token (it was taken off the idle stack).
func (p *ThreadPool) wakeLocked(w *Worker) { waker(w.token) }

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

// Submit queues t with the default priority. It returns spawn=true when
// the caller must start one more worker thread (no worker was idle and
// fewer than max exist).
func (p *ThreadPool) Submit(t Task, f *Future) (spawn bool, err error) {
	return p.SubmitPriority(t, f, DefaultPriority)
}

// SubmitPriority is Submit for a task of priority prio: among queued
// tasks, lower numbers run first, ties in submission order (taskQueue).
func (p *ThreadPool) SubmitPriority(t Task, f *Future, prio int64) (spawn bool, err error) {
	at := stats.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken {
		return false, ErrBroken
	}
	if p.shutdown || p.exiting {
		return false, ErrShutdown
	}
	if f != nil {
		f.Queued(p.stats) // stats: a cancel() in the queue counts at once
	}
	p.queue.push(queued{t, f, at}, prio)
	p.stats.Submitted(p.queue.len())
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

// NextOrPark pops the next task (st 1; st 2 for one cancelled while queued,
// already counted as cancelled), or tells the worker to exit (st -1:
// shut down or broken, and the queue drained; it is no longer counted), or
// records w as idle (st 0): the caller then waits on w's token and calls
// again. prev is how w's previous task ended (stats.OutcomeNone if already
// reported), for the statistics.
//
// A worker that finds nothing parks at once, in the same call: the binding
// holds the GIL from its task's end to here, so no submit can slip in
// between and start a thread while this one is about to be idle.
func (p *ThreadPool) NextOrPark(w *Worker, prev stats.Outcome) (Task, int) {
	now := stats.Now()
	if prev != stats.OutcomeNone {
		p.stats.Finished(prev, w.start, now)
	}
	p.mu.Lock()
	if e, ok := p.queue.pop(); ok {
		p.mu.Unlock()
		if e.f != nil && e.f.Dequeued() {
			// Cancelled in the queue and counted then: the caller drops
			// the task and reports no outcome for it.
			return e.t, 2
		}
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
		var fresh int
		out, fresh = p.queue.drain()
		p.stats.LeftQueue(fresh, false)
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
	out, fresh := p.queue.drain()
	p.stats.LeftQueue(fresh, true)
	p.wakeAllLocked()
	return out
}

// WorkerExited is called by a worker that leaves without NextOrPark telling it to
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

// queued is a task in the queue, with its future (nil in some tests) and
// its stats.Now() at submission.
type queued struct {
	t  Task
	f  *Future
	at int64
}

// DefaultPriority is the priority of a task submitted without one.
const DefaultPriority int64 = 0

// taskQueue is the pool's queue: a FIFO ring buffer while every queued task
// has the default priority (the fast path of pools that never use
// priorities), and a heap ordered by (priority, submission) once a task of
// another priority is queued: the FIFO's tasks move into it first (they
// were submitted earlier), and every later task joins it, until it drains.
// At most one of the two holds tasks.
type taskQueue struct {
	buf        []queued
	head, size int
	heap       prioHeap[queued]
	seq        uint64 // submission order of the heap's tasks
}

func (q *taskQueue) len() int { return q.size + q.heap.len() }

// push queues t with priority prio.
func (q *taskQueue) push(t queued, prio int64) {
	if prio == DefaultPriority && q.heap.len() == 0 {
		q.pushFIFO(t)
		return
	}
	for q.size > 0 {
		e, _ := q.popFIFO()
		q.seq++
		q.heap.push(DefaultPriority, q.seq, e)
	}
	q.seq++
	q.heap.push(prio, q.seq, t)
}

// pop takes the next task: the heap's first, or the FIFO's.
func (q *taskQueue) pop() (queued, bool) {
	if q.heap.len() > 0 {
		return q.heap.pop(), true
	}
	return q.popFIFO()
}

func (q *taskQueue) pushFIFO(t queued) {
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

func (q *taskQueue) popFIFO() (queued, bool) {
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

// drain empties the queue; fresh counts the tasks not already counted as
// cancelled in the queue (Future.Dequeued).
func (q *taskQueue) drain() (out []Task, fresh int) {
	out = make([]Task, 0, q.len())
	for {
		e, ok := q.pop()
		if !ok {
			return out, fresh
		}
		if e.f == nil || !e.f.Dequeued() {
			fresh++
		}
		out = append(out, e.t)
	}
}

// prioHeap is a binary min-heap of values ordered by (prio, seq): lowest
// priority number first, then lowest seq. The caller gives each push a
// larger seq than every earlier one, so popping everything is a stable
// sort by priority (ties in push order). It is container/heap's algorithm
// on a typed slice, moving a hole instead of swapping: container/heap's
// Push(any) would box each item (an allocation per task), and swaps
// through its interface cost several times more (measured:
// BenchmarkQueueBacklogHeap).
type prioHeap[T any] struct {
	items []prioItem[T]
}

type prioItem[T any] struct {
	prio int64
	seq  uint64
	v    T
}

func (h *prioHeap[T]) len() int { return len(h.items) }

// before reports whether a is ordered before (prio, seq).
func (a *prioItem[T]) before(prio int64, seq uint64) bool {
	return a.prio < prio || (a.prio == prio && a.seq < seq)
}

// push adds v. Sifting moves a hole rather than swapping: each level costs
// one copy.
func (h *prioHeap[T]) push(prio int64, seq uint64, v T) {
	x := prioItem[T]{prio, seq, v}
	items := append(h.items, x)
	i := len(items) - 1
	for i > 0 { // up: parents ordered after x move down into the hole
		parent := (i - 1) / 2
		if items[parent].before(prio, seq) {
			break
		}
		items[i] = items[parent]
		i = parent
	}
	items[i] = x
	h.items = items
}

// pop removes and returns the first item; the heap must not be empty.
func (h *prioHeap[T]) pop() T {
	items := h.items
	n := len(items) - 1
	v := items[0].v
	// The last item fills the root's hole, sifted down.
	x := items[n]
	items[n] = prioItem[T]{} // drop the reference
	items = items[:n]
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && items[c+1].before(items[c].prio, items[c].seq) {
			c++
		}
		if !items[c].before(x.prio, x.seq) {
			break
		}
		items[i] = items[c]
		i = c
	}
	if n > 0 {
		items[i] = x
	}
	h.items = items
	if n == 0 && cap(items) > 1024 {
		h.items = nil // give a burst's memory back
	}
	return v
}
