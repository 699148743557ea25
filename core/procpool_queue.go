package core

import "time"

// The process pool's queue policy (p.mu held throughout): what waits,
// in which order (queue, then pend by priority), what is started ahead as
// the stdlib's call queue does, and which worker gets the next task.

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
		if !t.started && !p.startLocked(t) { // (a requeued task is RUNNING already)
			continue
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
		if !p.startLocked(t) {
			// Cancelled while queued: it leaves the queue here.
			copy(p.queue[i:], p.queue[i+1:])
			p.queue[len(p.queue)-1] = nil
			p.queue = p.queue[:len(p.queue)-1]
			continue
		}
		i++
	}
	// Then from pend, in priority order (the queue holds started tasks
	// only while pend has any): each joins the queue's started prefix.
	for i == len(p.queue) && p.pend.len() > 0 && running+(i-p.qhead) < p.max+1 {
		t := p.pend.pop()
		if !p.startLocked(t) {
			continue
		}
		p.queue = append(p.queue, t)
		i++
	}
}

// startLocked moves a task that is leaving the waiting part of the queue
// (to its worker, or into the call queue ahead of the workers) to RUNNING.
// A task cancelled while queued becomes CANCELLED_AND_NOTIFIED instead: it
// is counted as cancelled in the queue unless its cancel was counted then
// (t.counted, set by popLocked, or Dequeued), it is released, and
// startLocked returns false.
func (p *ProcPool) startLocked(t *procTask) bool {
	if ok, _ := t.fut.SetRunningOrNotifyCancel(); !ok {
		if !t.counted && !t.fut.Dequeued() {
			p.stats.LeftQueue(1, false) // stats
		}
		p.releaseLocked(t)
		return false
	}
	t.started = true
	p.statsDispatched(t) // stats
	return true
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

func (p *ProcPool) countSpawnForShutdownLocked() int {
	n := 0
	for len(p.workers)+p.spawning < p.max && n < p.queuedLocked() {
		p.spawning++
		n++
	}
	return n
}
