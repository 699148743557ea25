package core

import (
	"fmt"
	"io"
	"time"
)

// When a process pool's worker ends without being asked: the cause of the
// break (asked of the Python side, which knows the exit status), failing
// what was queued and in flight, requeueing what a killed (timed-out)
// worker had not started, and worker starts that failed or were refused.

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
	if len(p.workers) == 0 && p.spawning == 0 && p.queuedLocked() > 0 && !p.broken {
		p.breakMsgLocked(msg, "")
		p.emitLocked(Event{Kind: EvBroken})
	}
	p.checkDoneLocked()
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
