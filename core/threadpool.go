package core

import (
	"errors"
	"sync"
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
	shutdown bool // Shutdown was called
	exiting  bool // the interpreter is exiting: workers leave once the queue is empty
	broken   bool
}

// Worker is one worker thread's parking place.
type Worker struct {
	wake   chan struct{}
	parked bool
}

// NewThreadPool returns a scheduler for at most max workers.
func NewThreadPool(max int) *ThreadPool {
	return &ThreadPool{max: max}
}

// NewWorker returns a parking place for a worker thread that has started.
func (p *ThreadPool) NewWorker() *Worker {
	return &Worker{wake: make(chan struct{}, 1)}
}

// Submit queues t. It returns spawn=true when the caller must start one more
// worker thread (no worker was idle and fewer than max exist).
func (p *ThreadPool) Submit(t Task) (spawn bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken {
		return false, ErrBroken
	}
	if p.shutdown || p.exiting {
		return false, ErrShutdown
	}
	p.queue.push(t)
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		w.parked = false
		w.wake <- struct{}{}
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

// TryNext pops a queued task without blocking.
func (p *ThreadPool) TryNext() (Task, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queue.pop()
}

// Next pops the next task, parking w while the queue is empty. It returns
// ok=false when the pool is shut down (or broken) and the queue is drained:
// the worker then exits, and is no longer counted.
func (p *ThreadPool) Next(w *Worker) (Task, bool) {
	p.mu.Lock()
	for {
		if t, ok := p.queue.pop(); ok {
			p.mu.Unlock()
			return t, true
		}
		if p.shutdown || p.exiting || p.broken {
			if p.exiting {
				// As the stdlib's worker does when it leaves at interpreter
				// exit: from now on the pool counts as shut down.
				p.shutdown = true
			}
			p.workers--
			p.mu.Unlock()
			return 0, false
		}
		w.parked = true
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		<-w.wake
		p.mu.Lock()
	}
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
		w.parked = false
		w.wake <- struct{}{}
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

// taskQueue is a FIFO ring buffer.
type taskQueue struct {
	buf        []Task
	head, size int
}

func (q *taskQueue) len() int { return q.size }

func (q *taskQueue) push(t Task) {
	if q.size == len(q.buf) {
		n := 2 * len(q.buf)
		if n == 0 {
			n = 16
		}
		nb := make([]Task, n)
		k := copy(nb, q.buf[q.head:])
		copy(nb[k:], q.buf[:q.head])
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = t
	q.size++
}

func (q *taskQueue) pop() (Task, bool) {
	if q.size == 0 {
		return 0, false
	}
	t := q.buf[q.head]
	q.buf[q.head] = 0
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
		out = append(out, t)
	}
}
