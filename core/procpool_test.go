package core

import (
	"bufio"
	"bytes"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// echoWorker plays a worker process over real pipes: it answers each task
// with its payload (kind R), or E when the payload is "fail", or dies
// (closes its pipes) when the payload is "die".
type echoWorker struct {
	taskR, resultW *os.File
	done           chan struct{}
	ran            int
}

func startFake(t *testing.T, p *ProcPool, pid int) *echoWorker {
	t.Helper()
	var tp, rp [2]int
	if err := syscall.Pipe(tp[:]); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Pipe(rp[:]); err != nil {
		t.Fatal(err)
	}
	w := &echoWorker{taskR: os.NewFile(uintptr(tp[0]), "taskR"), resultW: os.NewFile(uintptr(rp[1]), "resultW"),
		done: make(chan struct{})}
	p.AddWorker(pid, tp[1], rp[0])
	go w.loop()
	return w
}

func (w *echoWorker) loop() {
	defer close(w.done)
	defer w.taskR.Close()
	defer w.resultW.Close()
	br := bufio.NewReader(w.taskR)
	for {
		fr, err := ReadFrame(br)
		if err != nil || fr.Kind == FrameQuit {
			return
		}
		w.ran++
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
}

func collect(t *testing.T, p *ProcPool) *events {
	e := &events{done: make(chan struct{})}
	go func() {
		pid := 1000
		for {
			for _, ev := range p.Events(-1, 0) {
				e.mu.Lock()
				e.seen = append(e.seen, ev)
				e.mu.Unlock()
				switch ev.Kind {
				case EvSpawn:
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
	ev := collect(t, p)
	dying := NewFuture()
	if spawn, _ := p.Submit(dying, []byte("die")); spawn {
		startFake(t, p, 1)
	}
	queued := NewFuture()
	p.Submit(queued, []byte("never"))
	waitDone(t, dying, queued)
	for _, f := range []*Future{dying, queued} {
		if pl := f.TakePayload(); !f.Failed() || len(pl) == 0 || pl[0] != TagBroken {
			t.Fatalf("failed=%v payload=%q", f.Failed(), pl)
		}
	}
	if _, err := p.Submit(NewFuture(), nil); err != ErrProcBroken {
		t.Fatalf("submit on a broken pool: %v", err)
	}
	if !p.WaitDone(10 * time.Second) {
		t.Fatal("a broken pool with no worker left is not done")
	}
	<-ev.done
	if ev.count(EvBroken) != 1 || ev.count(EvReap) != 1 {
		t.Fatalf("events: %+v", ev.seen)
	}
}

func TestProcPoolMaxTasksReplacesWorkers(t *testing.T) {
	p := NewProcPool(1, 2, 1)
	ev := collect(t, p)
	var fs []*Future
	for i := 0; i < 7; i++ {
		f := NewFuture()
		if spawn, _ := p.Submit(f, []byte{byte(i)}); spawn {
			startFake(t, p, 1)
		}
		fs = append(fs, f)
	}
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
		if f.State() == Cancelled {
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
