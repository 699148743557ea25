package core

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofutures/gofutures/core/stats"
)

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

// queuedLocked counts the tasks waiting here: in the queue and in pend.
func (p *ProcPool) queuedLocked() int { return len(p.queue) - p.qhead + p.pend.len() }

// enqueueLocked queues t. While pend is empty, a task of the default
// priority is appended to the FIFO queue (the fast path of pools that never
// use priorities). Otherwise t goes to pend, a heap by (priority,
// submission), and so do the FIFO's tasks not yet started, first (they were
// submitted earlier). Started tasks (startAheadLocked, requeueLocked) stay
// the queue's prefix, ahead of pend: they are RUNNING already. So while
// pend holds tasks the queue holds started ones only, and popLocked and
// startAheadLocked take the queue's before pend's.
func (p *ProcPool) enqueueLocked(t *procTask, prio int64) {
	if prio == DefaultPriority && p.pend.len() == 0 {
		p.queue = append(p.queue, t)
		return
	}
	i := len(p.queue)
	for i > p.qhead && !p.queue[i-1].started {
		i--
	}
	for j, u := range p.queue[i:] {
		p.pseq++
		p.pend.push(DefaultPriority, p.pseq, u)
		p.queue[i+j] = nil
	}
	p.queue = p.queue[:i]
	p.pseq++
	p.pend.push(prio, p.pseq, t)
}

// wantSpawnLocked reserves a worker start when queued work has no free
// worker slot, below max.
func (p *ProcPool) wantSpawnLocked() bool {
	if p.queuedLocked() > 0 && len(p.workers)+p.spawning < p.max && !p.freeSlotLocked() {
		p.spawning++
		return true
	}
	return false
}

// freeSlotLocked reports whether a worker is idle (the stdlib starts a
// process only when none is). A worker still starting is not idle, as in
// the stdlib, whose idle count grows only as results come back.
func (p *ProcPool) freeSlotLocked() bool {
	for _, w := range p.workers {
		if w.ready && !w.retiring && len(w.inflight) == 0 {
			return true
		}
	}
	return false
}

// pumpLocked hands queued tasks to ready workers with room. A worker still
// starting gets none: the stdlib's workers take tasks only once running, so
// a task written to a starting worker would wait there while another
// worker could run it (and fail if the pool breaks meanwhile).
func (p *ProcPool) pumpLocked() {
	for p.queuedLocked() > 0 {
		var best *procWorker
		for _, w := range p.workers {
			if !w.ready || w.retiring || len(w.inflight) >= p.prefetch {
				continue
			}
			if best == nil || len(w.inflight) < len(best.inflight) {
				best = w
			}
		}
		if best == nil {
			break
		}
		// A task queued behind another on a busy worker waits for it even if
		// another worker frees up first: do it only with a backlog, where
		// every worker stays busy anyway and the full pipe saves a round trip.
		// Workers starting or being started count: they will want tasks soon.
		if len(best.inflight) > 0 && p.queuedLocked() < 2*(len(p.workers)+p.spawning) {
			break
		}
		t := p.popLocked()
		if !t.started { // (a requeued task is RUNNING already)
			if ok, _ := t.fut.SetRunningOrNotifyCancel(); !ok {
				// Cancelled while queued: now CANCELLED_AND_NOTIFIED.
				if !t.counted {
					p.stats.LeftQueue(1, false) // stats
				}
				p.releaseLocked(t)
				continue
			}
			t.started = true
			p.statsDispatched(t) // stats
		}
		idle := len(best.inflight) == 0
		item := sendItem{t, t.payload}
		// A task behind another keeps its bytes until it starts: it goes
		// back to the queue if the one ahead times out or is its worker's
		// last (complete drops them once it is the worker's head).
		keep := !idle
		if !keep {
			t.payload = nil // the item holds the bytes until they are written
		}
		p.nextSeq++
		t.seq = p.nextSeq
		best.inflight[t.id] = t
		best.assigned++
		if idle {
			p.startClockLocked(best, t)
		}
		if p.maxTasks > 0 && best.assigned >= p.maxTasks {
			best.retiring = true
		}
		p.sendLocked(best, item)
	}
	if p.qhead == len(p.queue) {
		p.queue, p.qhead = p.queue[:0], 0
		if p.pend.len() == 0 {
			return
		}
	}
	p.startAheadLocked()
}

// startAheadLocked keeps the stdlib's call queue: up to max+1 tasks are
// RUNNING (no longer cancellable) ahead of the workers, in order, even
// while no worker is ready to take them (workers still starting, or all
// busy). They stay in the pool's queue, for whichever worker is ready
// first, so none waits behind a worker that is still starting. Started
// tasks are always a prefix of the queue (requeued ones go back to the
// head).
func (p *ProcPool) startAheadLocked() {
	running := 0
	for _, w := range p.workers {
		running += len(w.inflight)
	}
	i := p.qhead
	for i < len(p.queue) && p.queue[i].started {
		i++
	}
	for i < len(p.queue) && running+(i-p.qhead) < p.max+1 {
		t := p.queue[i]
		if ok, _ := t.fut.SetRunningOrNotifyCancel(); !ok {
			// Cancelled while queued: leaves the queue here.
			if !t.fut.Dequeued() {
				p.stats.LeftQueue(1, false) // stats
			}
			copy(p.queue[i:], p.queue[i+1:])
			p.queue[len(p.queue)-1] = nil
			p.queue = p.queue[:len(p.queue)-1]
			p.releaseLocked(t)
			continue
		}
		t.started = true
		p.statsDispatched(t) // stats
		i++
	}
	// Then from pend, in priority order (the queue holds started tasks
	// only while pend has any): each joins the queue's started prefix.
	for i == len(p.queue) && p.pend.len() > 0 && running+(i-p.qhead) < p.max+1 {
		t := p.pend.pop()
		if ok, _ := t.fut.SetRunningOrNotifyCancel(); !ok {
			if !t.fut.Dequeued() {
				p.stats.LeftQueue(1, false) // stats
			}
			p.releaseLocked(t)
			continue
		}
		t.started = true
		p.statsDispatched(t) // stats
		p.queue = append(p.queue, t)
		i++
	}
}

// finishLocked fails t's future with payload (a tag and its text) unless it
// is done already (finished or cancelled by hand), and releases it.
func (p *ProcPool) finishLocked(t *procTask, payload []byte) {
	t.fut.FinishPayload(true, payload)
	p.releaseLocked(t)
}

// releaseLocked is the one way a task leaves the pool: Go will not touch
// its future again, so the owner word (the Python object's reference that
// the C side stored when it asked to hear of the completion) goes back to
// Python with an EvDeliver, whatever state the future is in. The C side
// publishes that state to the stdlib's protocol, runs the callbacks, and
// drops the reference. A future the C side finished itself has no owner
// left (it took it back).
func (p *ProcPool) releaseLocked(t *procTask) {
	if o := t.fut.TakeOwner(); o != 0 {
		p.emitLocked(Event{Kind: EvDeliver, Owner: o})
	}
}

// startClockLocked: t starts running on w now; a timed task's clock starts.
func (p *ProcPool) startClockLocked(w *procWorker, t *procTask) {
	if t.timeout > 0 && t.timer == nil {
		t.timer = time.AfterFunc(t.timeout, func() { p.expire(w, t) })
	}
}

// headLocked is the task w runs now: its first in flight in dispatch order
// (a worker runs its tasks one after another, and answers in that order).
func headLocked(w *procWorker) *procTask {
	var h *procTask
	for _, t := range w.inflight {
		if h == nil || t.seq < h.seq {
			h = t
		}
	}
	return h
}

// directMax is the largest task payload sendLocked writes itself: its
// frame fits PIPE_BUF, so a write to the pipe is whole or fails (EAGAIN).
const directMax = 4096 - HeaderSize

// sendLocked hands item to w's writer goroutine, or, when that writer is
// idle and the frame is small, writes it to the pipe itself (the pipe is
// non-blocking): a goroutine wake-up fewer per task, which is most of a
// one-at-a-time round trip's overhead. Frames stay in dispatch order: the
// direct write happens only with nothing queued for the writer, under p.mu,
// which every dispatch holds.
func (p *ProcPool) sendLocked(w *procWorker, item sendItem) {
	if t := item.t; t != nil && !w.wclosed && w.queued.Load() == 0 && len(item.payload) <= directMax {
		p.wbuf = AppendFrame(p.wbuf[:0], FrameTask, t.id, item.payload)
		if n, err := syscall.Write(w.fd, p.wbuf); err == nil && n == len(p.wbuf) {
			return
		}
		// EAGAIN (the pipe is full) or an error: the writer takes the task,
		// and an error makes it stop (the reader sees the process go).
	}
	w.queued.Add(1)
	sendRoom(w.sendq, item)
}

// sendRoom puts item on a worker's send queue, which never blocks: the
// queue holds prefetch+1 items, and at most prefetch tasks are in flight on
// a worker (pumpLocked) plus the one quit item (quitLocked: after it,
// nothing more is sent). A full queue would mean that invariant broke, and
// a send blocking under p.mu would freeze the whole pool: fail loudly.
func sendRoom(q chan sendItem, item sendItem) {
	select {
	case q <- item:
	default:
		panic("gofutures: a worker's send queue is full (more than prefetch tasks in flight)")
	}
}

// popLocked takes the task at the head of the queue, or else pend's first;
// a task that was never dispatched leaves its future's statistics hook
// (Future.Queued) then.
func (p *ProcPool) popLocked() *procTask {
	var t *procTask
	if p.qhead < len(p.queue) {
		t = p.queue[p.qhead]
		p.queue[p.qhead] = nil
		p.qhead++
	} else {
		t = p.pend.pop()
	}
	if !t.started {
		t.counted = t.fut.Dequeued()
	}
	return t
}

// SpawnFailed gives back a start reserved by Submit or EvSpawn. With no
// worker left to run the queue, the pool breaks.
func (p *ProcPool) SpawnFailed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spawning--
	if len(p.workers) == 0 && p.spawning == 0 && p.queuedLocked() > 0 {
		p.breakLocked("")
	}
}

// SpawnRefused gives back a start the Python side declined to make (CPython
// 3.14+ starts no replacement worker for a garbage-collected executor). With
// no worker left to run the queue, the pool breaks with msg as the futures'
// message.
func (p *ProcPool) SpawnRefused(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spawning--
	if len(p.workers) == 0 && p.spawning == 0 && p.qhead < len(p.queue) && !p.broken {
		p.breakMsgLocked(msg, "")
		p.emitLocked(Event{Kind: EvBroken})
	}
	p.checkDoneLocked()
}

// AddWorker adopts a started worker process: taskW is the write end of its
// task pipe, resultR the read end of its result pipe (the pool owns both
// from now on). It returns the worker's id.
func (p *ProcPool) AddWorker(pid, taskW, resultR int) uint64 {
	syscall.SetNonblock(taskW, true)
	syscall.SetNonblock(resultR, true)
	w := &procWorker{
		pid:      pid,
		w:        os.NewFile(uintptr(taskW), "gofutures-task"),
		fd:       taskW,
		r:        os.NewFile(uintptr(resultR), "gofutures-result"),
		sendq:    make(chan sendItem, p.prefetch+1),
		inflight: map[uint64]*procTask{},
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.WorkerStarted() // stats
	if p.spawning > 0 {
		p.spawning--
	}
	p.nextWID++
	w.id = p.nextWID
	p.workers[w.id] = w
	go p.writer(w)
	go p.startLoop(w)
	if p.broken {
		w.retiring = true
		p.quitLocked(w)
		w.r.Close()
		return w.id
	}
	p.pumpLocked()
	p.retireIdleLocked()
	return w.id
}

// readyFrame is what a worker sends once it can take tasks (after its
// initializer): a result frame for task 0, which no task has.
var readyFrame = AppendFrame(nil, FrameResult, 0, nil)

// startLoop waits for w's ready frame, then gives it tasks and reads its
// results. A worker that ends first (its initializer failed, or it was
// killed) is gone as if it had died running.
func (p *ProcPool) startLoop(w *procWorker) {
	var hdr [HeaderSize]byte
	if _, err := io.ReadFull(w.r, hdr[:]); err != nil {
		p.workerGone(w, err)
		return
	}
	if !bytes.Equal(hdr[:], readyFrame) {
		p.workerGone(w, ErrFrame)
		return
	}
	p.mu.Lock()
	w.ready = true
	if !p.broken {
		p.pumpLocked()
		p.retireIdleLocked()
	}
	p.mu.Unlock()
	p.reader(w)
}

func (p *ProcPool) writer(w *procWorker) {
	var buf []byte
	for item := range w.sendq {
		t := item.t
		if t == nil {
			w.w.Write(AppendFrame(buf[:0], FrameQuit, 0, nil))
			break
		}
		var err error
		if len(item.payload) < 64<<10 {
			buf = AppendFrame(buf[:0], FrameTask, t.id, item.payload)
			_, err = w.w.Write(buf)
		} else {
			// A large payload is written from where it is, after its header.
			hdr := AppendFrame(buf[:0], FrameTask, t.id, nil)
			binary.BigEndian.PutUint64(hdr[0:8], uint64(9+len(item.payload)))
			if _, err = w.w.Write(hdr); err == nil {
				_, err = w.w.Write(item.payload)
			}
		}
		w.queued.Add(-1)
		if err != nil {
			break // the reader sees the process go
		}
	}
	// No direct write (sendLocked) may reach this fd, whose number the
	// process may reuse, once it is closed.
	p.mu.Lock()
	w.wclosed = true
	p.mu.Unlock()
	w.w.Close()
	for range w.sendq {
	}
}

func (p *ProcPool) reader(w *procWorker) {
	br := bufio.NewReaderSize(w.r, 64<<10)
	for {
		fr, err := ReadFrameReserve(br, 1) // room for the payload tag
		if err != nil {
			p.workerGone(w, err)
			return
		}
		if k := fr.Kind; k != FrameResult && k != FrameException && k != FrameResultLast && k != FrameExceptionLast {
			p.workerGone(w, ErrFrame)
			return
		}
		p.complete(w, fr)
	}
}

func (p *ProcPool) complete(w *procWorker, fr Frame) {
	p.mu.Lock()
	t := w.inflight[fr.ID]
	delete(w.inflight, fr.ID)
	if t != nil && t.timer != nil {
		t.timer.Stop()
	}
	last := fr.Kind == FrameResultLast || fr.Kind == FrameExceptionLast
	if w.killed {
		// The worker is being killed for a timed-out task: a result now is
		// either that task's, late (then the next one may have started),
		// or one that beat the kill. Nothing more starts here.
		w.lateResult = w.lateResult || t == nil
	} else if last {
		// Its last (max_worker_memory): it exits now, having run nothing
		// behind this task; they run elsewhere, once (as requeueLocked's).
		w.retiring = true
		p.requeueLocked(w)
	} else if h := headLocked(w); h != nil {
		p.startClockLocked(w, h) // the next task starts as this one ends
		h.payload = nil          // it runs here now: never sent again
	}
	p.mu.Unlock()
	if t != nil {
		tag := TagResult
		if fr.Kind == FrameException || fr.Kind == FrameExceptionLast {
			tag = TagException
		}
		p.statsFinished(t, tag == TagException) // stats
		payload := fr.Payload
		payload[0] = tag
		// Outside p.mu: waiters are told here. An error means the user
		// finished the future by hand: ours is dropped.
		t.fut.FinishPayload(tag == TagException, payload)
	}
	p.mu.Lock()
	if t != nil {
		p.releaseLocked(t)
	}
	p.completed++
	p.pumpLocked()
	if w.retiring && len(w.inflight) == 0 {
		p.quitLocked(w)
	}
	p.retireIdleLocked()
	if sp := p.wantSpawnCountLocked(); sp > 0 {
		p.emitLocked(Event{Kind: EvSpawn, N: sp})
	}
	p.mu.Unlock()
}

// wantSpawnCountLocked reserves starts for queued work that no worker can
// take (after retirements), up to max.
func (p *ProcPool) wantSpawnCountLocked() int {
	// After shutdown too: work submitted before it still runs, and a worker
	// retired by max_tasks_per_child must be replaced for it.
	if p.broken {
		return 0
	}
	n := 0
	for p.wantSpawnLocked() {
		n++
		if n >= p.queuedLocked() {
			break
		}
	}
	return n
}

// quitLocked tells a worker to exit after its in-flight tasks.
func (p *ProcPool) quitLocked(w *procWorker) {
	if !w.quitSent {
		w.quitSent = true
		w.retiring = true
		sendRoom(w.sendq, sendItem{})
		close(w.sendq)
	}
}

// retireIdleLocked, once shut down with nothing queued, tells idle workers
// to quit.
func (p *ProcPool) retireIdleLocked() {
	if !p.shutdown || p.queuedLocked() > 0 {
		return
	}
	for _, w := range p.workers {
		if len(w.inflight) == 0 {
			p.quitLocked(w)
		}
	}
}

func (p *ProcPool) workerGone(w *procWorker, err error) {
	p.mu.Lock()
	expected := w.killed || p.broken || (w.quitSent && len(w.inflight) == 0 && err == io.EOF)
	p.mu.Unlock()
	var cause string
	answered := false
	if !expected {
		// Say which worker died and how, as CPython 3.15 does. The pipe
		// closes as the process ends: its status follows within moments.
		how := "terminated abruptly"
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			how = "sent a malformed message (" + err.Error() + ")"
		} else {
			cause, answered = p.exitCause(w.pid)
		}
		if !answered { // what waitid says (fork and spawn workers only)
			cause = fmt.Sprintf("worker process %d %s", w.pid, how)
			if info := exitInfo(w.pid, 100*time.Millisecond); info != "" {
				cause += " with " + info
			}
			cause += "\n"
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	w.r.Close()
	p.statsWorkerGone(expected) // stats
	if !expected && !p.broken {
		// breakLocked fails the in-flight tasks of every worker still in
		// p.workers: this one's included.
		p.breakLocked(cause)
		p.emitLocked(Event{Kind: EvBroken})
	}
	if w.killed {
		p.requeueLocked(w)
	}
	delete(p.workers, w.id)
	p.quitLocked(w) // stops the writer
	p.emitLocked(Event{Kind: EvReap, Worker: uint64(w.pid)})
	if !p.broken {
		p.pumpLocked()
		if sp := p.wantSpawnCountLocked(); sp > 0 {
			p.emitLocked(Event{Kind: EvSpawn, N: sp})
		}
	}
	p.checkDoneLocked()
}

// exitCause asks the Python side how worker pid ended (EvExited) and waits
// for its answer (ExitCause; "" is no cause), or false after askWait: only
// multiprocessing knows the exit status of a forkserver worker (the
// forkserver's child, not ours), once it has joined the process.
func (p *ProcPool) exitCause(pid int) (string, bool) {
	ch := make(chan string, 1)
	p.mu.Lock()
	wait := p.askWait
	if wait <= 0 {
		p.mu.Unlock()
		return "", false
	}
	p.exitWait[pid] = ch
	p.emitLocked(Event{Kind: EvExited, Worker: uint64(pid)})
	p.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case c := <-ch:
		return c, true
	case <-t.C:
	}
	p.mu.Lock()
	delete(p.exitWait, pid)
	p.mu.Unlock()
	select { // it may have come just now
	case c := <-ch:
		return c, true
	default:
		return "", false
	}
}

// AskExitCause makes the pool ask how each worker that died unexpectedly
// ended (EvExited), and wait up to wait for the answer before it breaks.
func (p *ProcPool) AskExitCause(wait time.Duration) {
	p.mu.Lock()
	p.askWait = wait
	p.mu.Unlock()
}

// ExitCause is the Python side's answer to EvExited: the broken pool's
// cause text for worker pid ("": none).
func (p *ProcPool) ExitCause(pid int, cause string) {
	p.mu.Lock()
	ch := p.exitWait[pid]
	delete(p.exitWait, pid)
	p.mu.Unlock()
	if ch != nil {
		ch <- cause // buffered: never blocks
	}
}

// requeueLocked: w was killed for a task that ran past its timeout; the
// tasks queued behind that one never started, so they go back to the head
// of the queue, in order, for another worker. The exception: when the
// timed-out task's result came in after all (it ended at its deadline),
// the next task may have started before the kill; it is not run twice but
// fails as a task whose process died (BrokenProcessPool), alone.
func (p *ProcPool) requeueLocked(w *procWorker) {
	var back []*procTask
	for len(w.inflight) > 0 {
		t := headLocked(w)
		delete(w.inflight, t.id)
		if t.timer != nil {
			t.timer.Stop()
		}
		if w.lateResult && back == nil && !p.broken {
			w.lateResult = false
			msg := fmt.Sprintf("worker process %d was killed (another task ran past its "+
				"timeout) while this task may have been running\n", w.pid)
			p.statsFinished(t, true) // stats
			p.finishLocked(t, append([]byte{TagBroken}, msg...))
			continue
		}
		back = append(back, t)
	}
	if len(back) > 0 {
		p.queue = append(back, p.queue[p.qhead:]...)
		p.qhead = 0
	}
}

// expire fails a task that ran past its timeout and kills its worker; the
// worker's end is then expected, and a replacement starts if work waits.
func (p *ProcPool) expire(w *procWorker, t *procTask) {
	p.mu.Lock()
	if w.inflight[t.id] != t {
		p.mu.Unlock()
		return // it finished first
	}
	delete(w.inflight, t.id)
	w.killed, w.retiring = true, true
	msg := fmt.Sprintf("the task ran past its timeout of %v; its worker process %d was killed", t.timeout, w.pid)
	p.statsFinished(t, true) // stats
	p.finishLocked(t, append([]byte{TagTimeout}, msg...))
	pid := w.pid
	p.mu.Unlock()
	if pid > 0 {
		p.kill(pid)
	}
}

// breakLocked fails every queued and in-flight future with BrokenProcessPool
// and stops all workers.
func (p *ProcPool) breakLocked(cause string) { p.breakMsgLocked("", cause) }

// breakMsgLocked is breakLocked with msg as the futures' message ("": the
// stdlib's usual one).
func (p *ProcPool) breakMsgLocked(msg, cause string) {
	p.broken = true
	p.cause = cause
	payload := append([]byte{TagBroken}, cause...)
	if msg != "" {
		payload = append(append(append([]byte{TagBrokenMsg}, msg...), 0), cause...)
	}
	fail := func(t *procTask) { p.finishLocked(t, payload) }
	for p.queuedLocked() > 0 {
		t := p.popLocked()
		if t.started { // requeued after its worker was killed: counted as running
			p.statsFinished(t, true) // stats
		} else if !t.counted { // (a task cancelled in the queue counts as cancelled)
			p.stats.LeftQueue(1, true) // stats
		}
		fail(t)
	}
	for _, w := range p.workers {
		for id, t := range w.inflight {
			delete(w.inflight, id)
			if t.timer != nil {
				t.timer.Stop()
			}
			p.statsFinished(t, true) // stats
			fail(t)
		}
		p.quitLocked(w)
	}
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

func (p *ProcPool) countSpawnForShutdownLocked() int {
	n := 0
	for len(p.workers)+p.spawning < p.max && n < p.queuedLocked() {
		p.spawning++
		n++
	}
	return n
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
