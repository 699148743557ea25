package core

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofutures/gofutures/core/stats"
)

// ProcPool: the dispatcher of a ProcessPoolExecutor. Everything here runs
// in goroutines or in short calls from the binding; nothing touches Python.
// A task's path (compare CPython's Lib/concurrent/futures/process.py):
//
//	Submit* ──► queue (FIFO) / pend (heap, by priority)     procpool_queue.go
//	              │ startAheadLocked: up to max+1 tasks RUNNING ahead,
//	              │ as the stdlib's call queue
//	              ▼ pumpLocked: a worker with room
//	         sendLocked ──► the worker's task pipe            procpool_io.go
//	         (direct write when its writer goroutine is idle, else the writer)
//	                                  │  python/gofutures/_worker.py runs it
//	         reader goroutine ◄── the worker's result pipe
//	              ▼ complete: FinishPayload(bytes) wakes waiters; the
//	                owner word goes back with an EvDeliver (Events)
//	worker died ──► workerGone: exit cause asked of the Python side,
//	                breakLocked fails what is queued and in flight,     procpool_break.go
//	                requeueLocked/expire for killed (timed-out) workers
//	Shutdown / Break / Counts / Events: this file.
//
// The Python side (cshim/procpool.c, python/gofutures/process.py) starts
// and joins the worker processes when Events tells it to (EvSpawn, EvReap,
// EvExited) and runs the done-callbacks (EvDeliver). p.mu guards the queue,
// the workers, their in-flight maps and the events; a Future's own lock is
// taken inside it, never the other way.

// Payload tags: the first byte of a process future's stored payload.
const (
	TagResult    byte = 'R' // a pickled return value
	TagException byte = 'E' // a pickled exception (with its remote traceback)
	TagBroken    byte = 'B' // the pool broke; the rest is the cause text (may be empty)
	TagTimeout   byte = 'T' // the task ran past its timeout; the rest is the message
	TagBrokenMsg byte = 'M' // the pool broke, with its own message: the message, NUL, the cause
)

// BrokenMessage is what submit raises once a worker died (the stdlib's text).
const BrokenMessage = "A child process terminated abruptly, the process pool is not usable anymore"

// ErrProcBroken is returned by ProcPool.Submit once the pool is broken.
var ErrProcBroken = errors.New(BrokenMessage)

// Event kinds, for the pool's Python-side service thread.
const (
	EvDeliver = 1 + iota // Owner: a future Go finished or cancelled; run its callbacks
	EvSpawn              // N: start this many worker processes
	EvReap               // Worker (its pid): this worker has exited; join its process
	EvBroken             // the pool broke: terminate the remaining workers
	EvDone               // shut down, no worker left: the service thread may exit
	EvExited             // Worker (its pid) ended unexpectedly: say how (ExitCause)
)

// Event is one thing the Python side must do.
type Event struct {
	Kind   int
	Owner  uintptr
	Worker uint64
	N      int
}

// ProcPool is the dispatcher of a ProcessPoolExecutor: the task queue, the
// pipes to the worker processes and their framing, in-flight bookkeeping,
// result demultiplexing and worker-death detection. Starting and joining
// processes, and running Python callbacks, are asked of the Python side as
// Events.
//
// Each worker has a reader goroutine (results, EOF = the process is gone)
// and a writer goroutine (tasks). A task is written to a worker only once
// the worker said it is ready (startLoop) and while it has fewer than
// prefetch tasks in flight; the future becomes RUNNING then, as the
// stdlib's futures do when they enter its call queue.
type ProcPool struct {
	mu        sync.Mutex
	queue     []*procTask // FIFO: queue[qhead:]
	qhead     int
	pend      prioHeap[*procTask] // queued by priority; see enqueueLocked
	pseq      uint64              // submission order of pend's tasks
	workers   map[uint64]*procWorker
	nextWID   uint64
	nextTID   uint64
	nextSeq   uint64 // dispatch order (procTask.seq)
	max       int
	maxTasks  int // 0: no limit
	prefetch  int
	spawning  int // workers requested, not yet added
	shutdown  bool
	broken    bool
	doneSent  bool
	cause     string // why the pool broke (which worker died, and how)
	events    []Event
	evSignal  chan struct{}
	allGone   chan struct{} // closed when shut down with no worker left
	completed int64
	stats     *stats.Pool   // stats: see procpool_stats.go
	kill      func(pid int) // SIGKILL; the tests' fake workers replace it
	wbuf      []byte        // sendLocked's frame buffer (p.mu)

	exitWait map[int]chan string // workerGone waits here for ExitCause, by pid
	askWait  time.Duration       // how long it waits (0: it does not ask)
}

type procTask struct {
	id         uint64
	fut        *Future
	payload    []byte
	timeout    time.Duration // 0: none
	timer      *time.Timer   // running while the task runs on its worker, with a timeout
	seq        uint64        // dispatch order: a worker runs its tasks in this order
	started    bool          // RUNNING (and counted as started) since its first dispatch
	counted    bool          // cancelled while queued: already counted as cancelled (stats)
	enq, start int64         // stats: stats.Now() at submit and at dispatch
}

// sendItem is a task for a worker's writer, with the bytes to write: the
// writer never touches t.payload, which the dispatcher clears (under p.mu)
// unless the task may be requeued (it is queued behind another, which may
// time out or be its worker's last: requeueLocked sends it again, maybe while the first writer still reads).
type sendItem struct {
	t       *procTask
	payload []byte
}

type procWorker struct {
	id       uint64
	pid      int
	w        *os.File
	r        *os.File
	sendq    chan sendItem // to the writer; nil task: send FrameQuit (capacity: sendRoom)
	fd       int           // w's descriptor, for sendLocked's direct writes
	queued   atomic.Int32  // items sent to sendq and not yet written
	wclosed  bool          // the writer closed w (p.mu)
	inflight map[uint64]*procTask
	assigned int
	retiring bool // no more tasks: quit once in-flight ones are done
	quitSent bool
	killed   bool // killed by the pool (a task timed out): its end is expected
	ready    bool // it said it is ready (startLoop): only then it gets tasks (p.mu)
	// killed, and the timed-out task's result came in after all: the task
	// queued behind it may have started before the kill.
	lateResult bool
}

// NewProcPool returns a dispatcher for at most max workers, each running at
// most maxTasks tasks (0: no limit) with up to prefetch tasks in flight.
func NewProcPool(max, maxTasks, prefetch int) *ProcPool {
	if prefetch < 1 {
		prefetch = 1
	}
	return &ProcPool{
		workers:  map[uint64]*procWorker{},
		max:      max,
		maxTasks: maxTasks,
		prefetch: prefetch,
		evSignal: make(chan struct{}, 1),
		allGone:  make(chan struct{}),
		stats:    stats.NewPool(stats.KindProcess), // stats
		kill:     func(pid int) { syscall.Kill(pid, syscall.SIGKILL) },
		exitWait: map[int]chan string{},
	}
}

func (p *ProcPool) emitLocked(e Event) {
	p.events = append(p.events, e)
	select {
	case p.evSignal <- struct{}{}:
	default:
	}
}

// Submit queues a task for f with its pickled call. spawn=true asks the
// caller to start one worker process (then AddWorker, or SpawnFailed).
func (p *ProcPool) Submit(f *Future, payload []byte) (spawn bool, err error) {
	return p.SubmitTimeout(f, payload, 0)
}

// SubmitTimeout is Submit for a task that may run at most timeout (0: no
// limit). Past it, the task's worker is killed and replaced, and the future
// fails with a TagTimeout payload. Its clock starts when it starts running:
// when it is handed to an idle worker, or when the result of the task
// before it on its worker comes back (timed tasks are prefetched like any
// other). Tasks queued behind it on the killed worker never started: they
// go back to the head of the queue (workerGone).
func (p *ProcPool) SubmitTimeout(f *Future, payload []byte, timeout time.Duration) (spawn bool, err error) {
	return p.SubmitPriority(f, payload, timeout, DefaultPriority)
}

// SubmitPriority is SubmitTimeout for a task of priority prio: among the
// tasks still queued here, lower numbers are dispatched first, ties in
// submission order. Tasks already started ahead (startAheadLocked: the
// stdlib's call queue, max+1 of them) or sent to a worker keep their place.
func (p *ProcPool) SubmitPriority(f *Future, payload []byte, timeout time.Duration, prio int64) (spawn bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken {
		return false, ErrProcBroken
	}
	if p.shutdown {
		return false, ErrShutdown
	}
	p.nextTID++
	f.Queued(p.stats) // stats
	p.enqueueLocked(&procTask{id: p.nextTID, fut: f, payload: payload, timeout: timeout, enq: stats.Now()}, prio)
	p.stats.Submitted(p.queuedLocked()) // stats
	p.pumpLocked()
	return p.wantSpawnLocked(), nil
}

func (p *ProcPool) checkDoneLocked() {
	if (p.shutdown || p.broken) && len(p.workers) == 0 && p.spawning == 0 && !p.doneSent {
		p.doneSent = true
		close(p.allGone)
		p.emitLocked(Event{Kind: EvDone})
	}
}

// Shutdown stops new submissions. With cancel, queued tasks are cancelled
// and notified (CANCELLED_AND_NOTIFIED: the stdlib leaves them CANCELLED,
// where a wait() never counts them done). Workers quit once the queue is
// drained.
func (p *ProcPool) Shutdown(cancel bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shutdown = true
	if cancel {
		keep := p.queue[:0] // (writes only slots popLocked has emptied)
		for p.queuedLocked() > 0 {
			t := p.popLocked()
			if c, _ := t.fut.Cancel(); c {
				if !t.counted {
					p.stats.LeftQueue(1, false) // stats
				}
				// Notified at once, so wait()/as_completed() count it done
				// (a fix: the stdlib leaves it CANCELLED for ever).
				t.fut.SetRunningOrNotifyCancel()
				p.releaseLocked(t)
				continue
			}
			keep = append(keep, t)
		}
		p.queue, p.qhead = keep, 0
	}
	p.retireIdleLocked()
	if len(p.workers) == 0 && p.queuedLocked() > 0 && p.spawning == 0 && !p.broken {
		// Work left and nobody to run it: start a worker for it.
		if sp := p.countSpawnForShutdownLocked(); sp > 0 {
			p.emitLocked(Event{Kind: EvSpawn, N: sp})
		}
	}
	p.checkDoneLocked()
}

// Events returns up to max pending events (max <= 0: all), waiting up to
// timeout (negative: no limit) for one.
func (p *ProcPool) Events(timeout time.Duration, max int) []Event {
	p.mu.Lock()
	if len(p.events) == 0 && timeout != 0 {
		p.mu.Unlock()
		if timeout < 0 {
			<-p.evSignal
		} else {
			t := time.NewTimer(timeout)
			select {
			case <-p.evSignal:
			case <-t.C:
			}
			t.Stop()
		}
		p.mu.Lock()
	}
	ev := p.events
	if max > 0 && len(ev) > max {
		p.events = append([]Event(nil), ev[max:]...)
		ev = ev[:max]
		select { // more remain: keep the signal up
		case p.evSignal <- struct{}{}:
		default:
		}
	} else {
		p.events = nil
	}
	p.mu.Unlock()
	return ev
}

// WaitDone blocks until the pool is shut down (or broken) with no worker
// left, or the timeout passes. It reports which.
func (p *ProcPool) WaitDone(timeout time.Duration) bool {
	if timeout < 0 {
		<-p.allGone
		return true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.allGone:
		return true
	case <-t.C:
		return false
	}
}

// ProcCounts is a snapshot of a process pool.
type ProcCounts struct {
	Queued, InFlight, Workers int
	Completed                 int64
	Shutdown, Broken          bool
}

// Counts returns a consistent snapshot.
func (p *ProcPool) Counts() ProcCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := ProcCounts{Queued: p.queuedLocked(), Workers: len(p.workers), Completed: p.completed,
		Shutdown: p.shutdown, Broken: p.broken}
	for _, w := range p.workers {
		c.InFlight += len(w.inflight)
	}
	return c
}

// Break marks the pool broken, as a worker death does: every queued and
// in-flight future fails, the workers are told to quit, and the Python side
// is told to terminate them. The binding calls it when a result cannot be
// decoded (the stdlib's result handler breaks the pool then).
func (p *ProcPool) Break() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.broken {
		p.breakLocked("")
		p.emitLocked(Event{Kind: EvBroken})
	}
	p.checkDoneLocked()
}

// Reserve asks for up to n more worker starts now (the caller then calls
// AddWorker or SpawnFailed for each); it returns how many it may start.
// With the fork start method the stdlib starts every worker at first use.
func (p *ProcPool) Reserve(n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shutdown || p.broken {
		return 0
	}
	k := 0
	for k < n && len(p.workers)+p.spawning < p.max {
		p.spawning++
		k++
	}
	return k
}

// Cause says why the pool broke ("" if it is not broken, or nothing is
// known).
func (p *ProcPool) Cause() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cause
}

// Closed reports whether the pool is shut down and whether it is broken:
// what submit checks before pickling, without Counts' walk over the workers.
func (p *ProcPool) Closed() (shutdown, broken bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.shutdown, p.broken
}
