package core

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"syscall"
)

// The process pool's pipes: adopting a started worker, its writer and
// reader goroutines, the direct write of small frames, and what a result
// frame does when it arrives (complete).

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
