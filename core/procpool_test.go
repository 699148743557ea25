package core

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// echoWorker plays a worker process over real pipes: it answers each task
// with its payload (kind R), or E when the payload is "fail", or dies
// (closes its pipes) when the payload is "die".
// A payload "sleep:N" answers itself after N milliseconds, unless the
// worker is killed first (kill closes its pipes, as a process's death does).
type echoWorker struct {
	taskR, resultW *os.File
	done           chan struct{}
	ran            int
	current        atomic.Uint64 // id of the task running now
	killed         chan struct{}
	killOnce       sync.Once
	hold           chan struct{} // if set: read nothing until it is closed
	ids            []uint64      // task ids in the order they arrived
}

// kill ends the fake process; late: it first answers the task it runs, as a
// task that ends at its deadline, just before the kill lands, does.
func (w *echoWorker) kill(late bool) {
	w.killOnce.Do(func() {
		if late {
			w.resultW.Write(AppendFrame(nil, FrameResult, w.current.Load(), []byte("late")))
		}
		close(w.killed)
		w.resultW.Close()
	})
}

func startFake(t *testing.T, p *ProcPool, pid int) *echoWorker {
	t.Helper()
	return startFakeHeld(t, p, pid, nil)
}

// startFakeHeld starts a fake worker that reads no task until hold is
// closed (nil: at once), so the pool's writes fill its pipe.
func startFakeHeld(t *testing.T, p *ProcPool, pid int, hold chan struct{}) *echoWorker {
	t.Helper()
	w, id := addFake(t, p, pid, hold)
	// A worker says it is ready (after its initializer) before it gets
	// tasks; the fake is ready at once (hold delays its reads, not this).
	w.resultW.Write(readyFrame)
	awaitReady(t, p, id)
	go w.loop()
	return w
}

// startFakeStarting adds a fake worker that is still starting (in its
// initializer, say); calling the returned function makes it ready.
func startFakeStarting(t *testing.T, p *ProcPool, pid int) (*echoWorker, func()) {
	t.Helper()
	w, id := addFake(t, p, pid, nil)
	return w, func() {
		w.resultW.Write(readyFrame)
		awaitReady(t, p, id)
		go w.loop()
	}
}

func addFake(t *testing.T, p *ProcPool, pid int, hold chan struct{}) (*echoWorker, uint64) {
	t.Helper()
	var tp, rp [2]int
	if err := syscall.Pipe(tp[:]); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Pipe(rp[:]); err != nil {
		t.Fatal(err)
	}
	w := &echoWorker{taskR: os.NewFile(uintptr(tp[0]), "taskR"), resultW: os.NewFile(uintptr(rp[1]), "resultW"),
		done: make(chan struct{}), killed: make(chan struct{}), hold: hold}
	fakesByPID.Store(pid, w)
	return w, p.AddWorker(pid, tp[1], rp[0])
}

// awaitReady waits until the pool has seen the ready frame of worker id
// (or has let it go already).
func awaitReady(t *testing.T, p *ProcPool, id uint64) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		p.mu.Lock()
		w := p.workers[id]
		ready := w == nil || w.ready
		p.mu.Unlock()
		if ready {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("worker %d never became ready", id)
		}
	}
}

// fakesByPID: the fake workers by the pid they were given, for fakeKill.
var fakesByPID sync.Map

// fakeKill makes p's kills end fake workers (late: see echoWorker.kill).
func fakeKill(p *ProcPool, late bool) {
	p.kill = func(pid int) {
		if w, ok := fakesByPID.Load(pid); ok {
			w.(*echoWorker).kill(late)
		}
	}
}

func (w *echoWorker) loop() {
	defer close(w.done)
	defer w.taskR.Close()
	defer w.resultW.Close()
	if w.hold != nil {
		<-w.hold
	}
	br := bufio.NewReader(w.taskR)
	for {
		fr, err := ReadFrame(br)
		if err != nil || fr.Kind == FrameQuit {
			return
		}
		w.ran++
		w.ids = append(w.ids, fr.ID)
		w.current.Store(fr.ID)
		if ms, ok := strings.CutPrefix(string(fr.Payload), "sleep:"); ok {
			n, _ := strconv.Atoi(ms)
			select {
			case <-time.After(time.Duration(n) * time.Millisecond):
			case <-w.killed:
				return
			}
		}
		select {
		case <-w.killed:
			return
		default:
		}
		switch string(fr.Payload) {
		case "die":
			return
		case "fail":
			w.resultW.Write(AppendFrame(nil, FrameException, fr.ID, []byte("exc")))
		default:
			w.resultW.Write(AppendFrame(nil, FrameResult, fr.ID, fr.Payload))
		}
	}
}

// events collects a pool's events in the background, answering spawn
// requests with fake workers as the Python side answers them with processes.
type events struct {
	mu     sync.Mutex
	seen   []Event
	spawns int
	done   chan struct{}
	silent bool // answer no EvExited (a Python side that cannot)
	refuse bool // decline every start (SpawnRefused), as for a collected executor
}

func collect(t *testing.T, p *ProcPool) *events {
	return collectWith(t, p, &events{})
}

func collectWith(t *testing.T, p *ProcPool, e *events) *events {
	e.done = make(chan struct{})
	go func() {
		pid := 1000
		for {
			for _, ev := range p.Events(-1, 0) {
				e.mu.Lock()
				e.seen = append(e.seen, ev)
				e.mu.Unlock()
				switch ev.Kind {
				case EvExited:
					if !e.silent {
						p.ExitCause(int(ev.Worker), fmt.Sprintf("Process %d ended\n", ev.Worker))
					}
				case EvSpawn:
					if e.refuse {
						for i := 0; i < ev.N; i++ {
							p.SpawnRefused("gone")
						}
						continue
					}
					for i := 0; i < ev.N; i++ {
						pid++
						e.mu.Lock()
						e.spawns++
						e.mu.Unlock()
						startFake(t, p, pid)
					}
				case EvDone:
					close(e.done)
					return
				}
			}
		}
	}()
	return e
}

func (e *events) count(kind int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.seen {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

func waitDone(t *testing.T, fs ...*Future) {
	t.Helper()
	for i, f := range fs {
		if !f.Wait(10 * time.Second) {
			t.Fatalf("future %d not done (state %v)", i, f.State())
		}
	}
}

// submitEach submits n tasks, task i's payload the byte i, starting a fake
// worker (pid 1) whenever the pool asks for one.
func submitEach(t *testing.T, p *ProcPool, n int) []*Future {
	t.Helper()
	var fs []*Future
	for i := 0; i < n; i++ {
		f := NewFuture()
		if spawn, _ := p.Submit(f, []byte{byte(i)}); spawn {
			startFake(t, p, 1)
		}
		fs = append(fs, f)
	}
	return fs
}

// assertPayload checks f's failed flag and payload.
func assertPayload(t *testing.T, f *Future, failed bool, want, what string) {
	t.Helper()
	if pl := f.TakePayload(); f.Failed() != failed || string(pl) != want {
		t.Fatalf("%sfailed=%v payload=%q", what, f.Failed(), pl)
	}
}

// assertBrokenDone checks that a broken pool with no worker left is done,
// waits for its events to end and checks how many of each kind came.
func assertBrokenDone(t *testing.T, p *ProcPool, ev *events, want map[int]int) {
	t.Helper()
	if !p.WaitDone(10 * time.Second) {
		t.Fatal("a broken pool with no worker left is not done")
	}
	<-ev.done
	for kind, n := range want {
		if ev.count(kind) != n {
			t.Fatalf("events: %+v", ev.seen)
		}
	}
}

func TestProcPoolRunsTasksAndShutsDown(t *testing.T) {
	p := NewProcPool(2, 0, 1)
	ev := collect(t, p)
	var fs []*Future
	for i := 0; i < 200; i++ {
		f := NewFuture()
		spawn, err := p.Submit(f, []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		if spawn {
			startFake(t, p, 1+i)
		}
		fs = append(fs, f)
	}
	waitDone(t, fs...)
	for i, f := range fs {
		pl := f.TakePayload()
		if f.Failed() || len(pl) != 2 || pl[0] != TagResult || pl[1] != byte(i) {
			t.Fatalf("future %d: failed=%v payload=%v", i, f.Failed(), pl)
		}
	}
	if c := p.Counts(); c.Workers > 2 || c.Completed != 200 {
		t.Fatalf("counts %+v", c)
	}
	p.Shutdown(false)
	if !p.WaitDone(10 * time.Second) {
		t.Fatal("pool not done after shutdown")
	}
	<-ev.done
	if _, err := p.Submit(NewFuture(), nil); err != ErrShutdown {
		t.Fatalf("submit after shutdown: %v", err)
	}
}

func TestProcPoolExceptionFrame(t *testing.T) {
	p := NewProcPool(1, 0, 1)
	collect(t, p)
	f := NewFuture()
	if spawn, _ := p.Submit(f, []byte("fail")); spawn {
		startFake(t, p, 1)
	}
	waitDone(t, f)
	if pl := f.TakePayload(); !f.Failed() || pl[0] != TagException || string(pl[1:]) != "exc" {
		t.Fatalf("failed=%v payload=%q", f.Failed(), pl)
	}
	p.Shutdown(false)
	p.WaitDone(10 * time.Second)
}

func TestProcPoolWorkerDeathBreaksEverything(t *testing.T) {
	p := NewProcPool(1, 0, 1)
	p.AskExitCause(10 * time.Second)
	ev := collect(t, p)
	dying := NewFuture()
	if spawn, _ := p.Submit(dying, []byte("die")); spawn {
		startFake(t, p, 1)
	}
	queued := NewFuture()
	fs := []*Future{dying, queued}
	if _, err := p.Submit(queued, []byte("never")); err == ErrProcBroken {
		fs = fs[:1] // the worker died before this submit: it was refused
	} else if err != nil {
		t.Fatal(err)
	}
	waitDone(t, fs...)
	for _, f := range fs {
		// The cause is the Python side's answer to EvExited.
		assertPayload(t, f, true, "BProcess 1 ended\n", "")
	}
	if _, err := p.Submit(NewFuture(), nil); err != ErrProcBroken {
		t.Fatalf("submit on a broken pool: %v", err)
	}
	assertBrokenDone(t, p, ev, map[int]int{EvBroken: 1, EvReap: 1})
}

// With no answer to EvExited in time, the pool breaks all the same, with
// the cause Go can say itself.
func TestProcPoolWorkerDeathWithoutAnExitCause(t *testing.T) {
	p := NewProcPool(1, 0, 1)
	p.AskExitCause(50 * time.Millisecond)
	ev := collectWith(t, p, &events{silent: true})
	dying := NewFuture()
	if spawn, _ := p.Submit(dying, []byte("die")); spawn {
		startFake(t, p, 1)
	}
	waitDone(t, dying)
	if pl := dying.TakePayload(); !dying.Failed() || !strings.HasPrefix(string(pl), "Bworker process 1 terminated abruptly") {
		t.Fatalf("failed=%v payload=%q", dying.Failed(), pl)
	}
	<-ev.done
	if ev.count(EvExited) != 1 || ev.count(EvBroken) != 1 {
		t.Fatalf("events: %+v", ev.seen)
	}
}

// A replacement the Python side declines (a collected executor, 3.14+)
// breaks the pool once no worker is left, with its message; the tasks run
// by the retired worker keep their results.
func TestProcPoolRefusedReplacementBreaksWithItsMessage(t *testing.T) {
	p := NewProcPool(1, 1, 1)
	ev := collectWith(t, p, &events{refuse: true})
	fs := submitEach(t, p, 3)
	waitDone(t, fs...)
	assertPayload(t, fs[0], false, "R\x00", "first: ")
	for i, f := range fs[1:] {
		assertPayload(t, f, true, "Mgone\x00", fmt.Sprintf("future %d: ", i+1))
	}
	assertBrokenDone(t, p, ev, map[int]int{EvBroken: 1, EvExited: 0})
}

func TestProcPoolMaxTasksReplacesWorkers(t *testing.T) {
	p := NewProcPool(1, 2, 1)
	ev := collect(t, p)
	fs := submitEach(t, p, 7)
	waitDone(t, fs...)
	for i, f := range fs {
		if f.Failed() {
			t.Fatalf("future %d failed", i)
		}
	}
	p.Shutdown(false)
	<-ev.done
	// 7 tasks, 2 per worker: the first worker and 3 replacements.
	if ev.spawns != 3 || ev.count(EvReap) != 4 || ev.count(EvBroken) != 0 {
		t.Fatalf("spawns=%d events=%+v", ev.spawns, ev.seen)
	}
}

func TestProcPoolShutdownCancelsQueued(t *testing.T) {
	p := NewProcPool(1, 0, 1)
	ev := collect(t, p)
	block := NewFuture()
	if spawn, _ := p.Submit(block, bytes.Repeat([]byte{1}, 10)); spawn {
		startFake(t, p, 1)
	}
	var queued []*Future
	for i := 0; i < 5; i++ {
		f := NewFuture()
		f.AddListener(uintptr(100 + i)) // an owner to hand back
		p.Submit(f, []byte{2})
		queued = append(queued, f)
	}
	p.Shutdown(true)
	waitDone(t, block)
	<-ev.done
	cancelled := 0
	for _, f := range queued {
		if f.State() == CancelledAndNotified { // notified at once: wait() counts it done
			cancelled++
		}
	}
	if cancelled == 0 || ev.count(EvDeliver) < cancelled {
		t.Fatalf("cancelled=%d delivers=%d", cancelled, ev.count(EvDeliver))
	}
}

func TestProcPoolDeliversOwners(t *testing.T) {
	p := NewProcPool(1, 0, 1)
	ev := collect(t, p)
	f := NewFuture()
	if done, stored := f.AddListener(42); done || !stored {
		t.Fatal("owner not stored")
	}
	if spawn, _ := p.Submit(f, []byte("x")); spawn {
		startFake(t, p, 1)
	}
	waitDone(t, f)
	p.Shutdown(false)
	<-ev.done
	ev.mu.Lock()
	defer ev.mu.Unlock()
	found := false
	for _, e := range ev.seen {
		if e.Kind == EvDeliver && e.Owner == 42 {
			found = true
		}
	}
	if !found || f.TakeOwner() != 0 {
		t.Fatalf("owner not delivered exactly once: %+v", ev.seen)
	}
}

// payloadOf is a finished future's tag and text.
func payloadOf(t *testing.T, f *Future) (byte, string) {
	t.Helper()
	pl := f.TakePayload()
	if len(pl) == 0 {
		t.Fatalf("no payload (state %v)", f.State())
	}
	return pl[0], string(pl[1:])
}

// assertResults checks that each future finished with a TagResult payload
// of the given text (the fake workers echo the task's bytes).
func assertResults(t *testing.T, want map[*Future]string) {
	t.Helper()
	for f, w := range want {
		if tag, got := payloadOf(t, f); tag != TagResult || got != w {
			t.Fatalf("%s: %c %q", w, tag, got)
		}
	}
}

// hungPool is a one-worker pool (prefetch as given, kills faked: late, the
// killed task's result still comes) whose fake worker pid runs hung first,
// a task sleeping far past its 50 ms timeout.
func hungPool(t *testing.T, prefetch int, late bool, pid int) (p *ProcPool, ev *events, hung *Future) {
	t.Helper()
	p = NewProcPool(1, 0, prefetch)
	fakeKill(p, late)
	ev = collect(t, p)
	hung = NewFuture()
	if spawn, _ := p.SubmitTimeout(hung, []byte("sleep:60000"), 50*time.Millisecond); spawn {
		startFake(t, p, pid)
	}
	return p, ev, hung
}

// A timed task is prefetched like any other; when it runs past its timeout
// its worker is killed, and the task queued behind it there (which never
// started) runs on the replacement: it is neither lost nor failed.
func TestProcPoolTimedTaskQueuedBehindIsRequeued(t *testing.T) {
	p, ev, hung := hungPool(t, 2, false, 7001)
	next, last := NewFuture(), NewFuture()
	p.Submit(next, []byte("next"))
	p.Submit(last, []byte("last"))
	p.mu.Lock()
	var inflight []int
	for _, w := range p.workers {
		inflight = append(inflight, len(w.inflight))
	}
	p.mu.Unlock()
	if len(inflight) != 1 || inflight[0] != 2 {
		t.Fatalf("in flight per worker: %v; want the timed task and one prefetched behind it", inflight)
	}
	waitDone(t, hung, next, last)
	if tag, msg := payloadOf(t, hung); tag != TagTimeout || !strings.Contains(msg, "worker process 7001 was killed") {
		t.Fatalf("hung: %c %q", tag, msg)
	}
	assertResults(t, map[*Future]string{next: "next", last: "last"})
	p.Shutdown(false)
	<-ev.done
	if ev.spawns != 1 || ev.count(EvBroken) != 0 {
		t.Fatalf("spawns=%d events=%+v", ev.spawns, ev.seen)
	}
	if s := p.Stats().Snapshot(); s.Completed != 2 || s.Failed != 1 || s.Running != 0 || s.Queued != 0 {
		t.Fatalf("stats: %+v", s)
	}
}

// A timed task's clock starts when it starts running, not when it is
// queued behind another task on its worker.
func TestProcPoolTimedTaskClockStartsWhenItRuns(t *testing.T) {
	p := NewProcPool(1, 0, 2)
	fakeKill(p, false)
	ev := collect(t, p)
	slow, timed, filler := NewFuture(), NewFuture(), NewFuture()
	if spawn, _ := p.Submit(slow, []byte("sleep:400")); spawn {
		startFake(t, p, 7101)
	}
	p.SubmitTimeout(timed, []byte("quick"), 200*time.Millisecond) // prefetched behind slow
	p.Submit(filler, []byte("filler"))
	waitDone(t, slow, timed, filler)
	assertResults(t, map[*Future]string{slow: "sleep:400", timed: "quick", filler: "filler"})
	p.Shutdown(false)
	<-ev.done
	if ev.spawns != 0 {
		t.Fatalf("a worker was killed: spawns=%d", ev.spawns)
	}
}

// When the timed-out task's result comes in after all (it ended at its
// deadline), the task behind it may have started before the kill: it is
// not run a second time but fails alone (TagBroken); the one after it,
// which cannot have started, still runs.
func TestProcPoolTaskBehindALateTimeoutIsNotRunTwice(t *testing.T) {
	p, ev, hung := hungPool(t, 3, true, 7201)
	maybe, after := NewFuture(), NewFuture()
	p.Submit(maybe, []byte("maybe"))
	p.Submit(after, []byte("after"))
	p.Submit(NewFuture(), []byte("more")) // keeps the backlog that prefetches
	waitDone(t, hung, maybe, after)
	if tag, _ := payloadOf(t, hung); tag != TagTimeout {
		t.Fatalf("hung: %c", tag)
	}
	if tag, msg := payloadOf(t, maybe); tag != TagBroken || !strings.Contains(msg, "may have been running") {
		t.Fatalf("maybe: %c %q", tag, msg)
	}
	if tag, got := payloadOf(t, after); tag != TagResult || got != "after" {
		t.Fatalf("after: %c %q", tag, got)
	}
	p.Shutdown(false)
	<-ev.done
	if ev.count(EvBroken) != 0 {
		t.Fatalf("the pool broke: %+v", ev.seen)
	}
}

// Small task frames are written straight to the pipe while the worker's
// writer is idle; once the pipe is full (EAGAIN) the writer goroutine takes
// over. Either way the worker gets every task once, in dispatch order.
func TestProcPoolDirectWritesFallBackToTheWriterInOrder(t *testing.T) {
	const n = 48 // 48 frames of ~4 KiB: more than a 64 KiB pipe holds
	p := NewProcPool(1, 0, n)
	ev := collect(t, p)
	hold := make(chan struct{})
	var fs []*Future
	var w *echoWorker
	for i := 0; i < n; i++ {
		f := NewFuture()
		payload := bytes.Repeat([]byte{byte(i)}, directMax)
		if spawn, _ := p.Submit(f, payload); spawn {
			w = startFakeHeld(t, p, 7301, hold)
		}
		fs = append(fs, f)
	}
	close(hold)
	waitDone(t, fs...)
	for i, f := range fs {
		if tag, got := payloadOf(t, f); tag != TagResult || len(got) != directMax || got[0] != byte(i) {
			t.Fatalf("task %d: tag %c, %d bytes starting %d", i, tag, len(got), got[0])
		}
	}
	p.Shutdown(false)
	<-ev.done
	<-w.done
	for i := 1; i < len(w.ids); i++ {
		if w.ids[i] <= w.ids[i-1] {
			t.Fatalf("task frames out of order: %v", w.ids)
		}
	}
	if len(w.ids) != n {
		t.Fatalf("the worker got %d tasks of %d", len(w.ids), n)
	}
}

// inflightOf returns how many tasks each worker (by pid) has in flight.
func inflightOf(p *ProcPool) map[int]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := map[int]int{}
	for _, w := range p.workers {
		m[w.pid] = len(w.inflight)
	}
	return m
}

// Issue 14, point 9: a worker that is still starting gets no task, so no
// task waits there while a ready worker could run it; it gets tasks once it
// says it is ready. (Before, tasks were written to a worker as soon as its
// process was started: here the ten would wait for a worker that never
// starts.)
func TestProcPoolStartingWorkerGetsNoTask(t *testing.T) {
	p := NewProcPool(2, 0, 2)
	ev := collect(t, p)
	fast := startFake(t, p, 7401)
	slow, ready := startFakeStarting(t, p, 7402)
	var fs []*Future
	for i := 0; i < 10; i++ {
		f := NewFuture()
		p.Submit(f, []byte("t"+strconv.Itoa(i)))
		fs = append(fs, f)
	}
	if got := inflightOf(p)[7402]; got != 0 {
		t.Fatalf("the starting worker got %d tasks", got)
	}
	waitDone(t, fs...) // all on the ready worker
	hold := NewFuture()
	p.Submit(hold, []byte("sleep:200")) // keeps the fast one busy
	ready()
	late := NewFuture()
	p.Submit(late, []byte("late"))
	waitDone(t, hold, late)
	p.Shutdown(false)
	<-ev.done
	<-fast.done
	<-slow.done
	if fast.ran != 11 || slow.ran != 1 {
		t.Fatalf("ran: fast %d, slow %d; want 11 and 1", fast.ran, slow.ran)
	}
	if ev.spawns != 0 || ev.count(EvBroken) != 0 {
		t.Fatalf("events: %+v", ev.seen)
	}
}

// A ready worker gets a second task behind its first (prefetch) only with
// a backlog that keeps every worker busy, workers still being started
// included: with one ready and one reserved, three queued tasks are not
// enough, so the second and third wait in the queue for whichever worker
// is free first.
func TestProcPoolNoPrefetchWhileAWorkerIsStarting(t *testing.T) {
	p := NewProcPool(2, 0, 2)
	ev := collect(t, p)
	hold := make(chan struct{})
	w := startFakeHeld(t, p, 7501, hold)
	if n := p.Reserve(1); n != 1 { // the second worker is being started
		t.Fatalf("reserve: %d", n)
	}
	var fs []*Future
	for i := 0; i < 3; i++ {
		f := NewFuture()
		p.Submit(f, []byte("x"))
		fs = append(fs, f)
	}
	if got := inflightOf(p)[7501]; got != 1 {
		t.Fatalf("in flight on the ready worker: %d; want 1 (no prefetch)", got)
	}
	p.SpawnFailed() // the start failed after all (a new one may be asked for)
	close(hold)
	waitDone(t, fs...)
	for i, f := range fs {
		if tag, got := payloadOf(t, f); tag != TagResult || got != "x" {
			t.Fatalf("task %d: %c %q", i, tag, got)
		}
	}
	p.Shutdown(false)
	<-ev.done
	<-w.done
}
