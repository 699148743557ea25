package core

import (
	"bufio"
	"os"
	"syscall"
	"testing"
	"time"
)

// fakeWorker adopts a pair of pipes as a worker process: it returns the
// worker's ends (tasks to read, results to write).
func fakeWorker(t *testing.T, p *ProcPool) (tasks *bufio.Reader, taskR, results *os.File) {
	t.Helper()
	tr, tw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	rr, rw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	tfd, _ := syscall.Dup(int(tw.Fd()))
	rfd, _ := syscall.Dup(int(rr.Fd()))
	tw.Close()
	rr.Close()
	id := p.AddWorker(os.Getpid(), tfd, rfd)
	rw.Write(readyFrame) // it takes tasks from now on (procpool.go, startLoop)
	awaitReady(t, p, id)
	return bufio.NewReader(tr), tr, rw
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The process pool's statistics hooks: a task that returns, one that
// raises, one cancelled while queued, then a worker that dies with a task
// in flight.
func TestProcPoolStats(t *testing.T) {
	p := NewProcPool(1, 0, 1)
	defer p.Close()
	tasks, taskR, results := fakeWorker(t, p)
	defer taskR.Close()
	f1, f2, f3 := NewFuture(), NewFuture(), NewFuture()
	for _, f := range []*Future{f1, f2, f3} {
		if _, err := p.Submit(f, []byte("call")); err != nil {
			t.Fatal(err)
		}
	}
	f3.Cancel() // counted as cancelled at once (it is no longer queued work)
	s := p.Stats().Snapshot()
	if s.Submitted != 3 || s.Running != 1 || s.Queued != 1 || s.Cancelled != 1 || s.WorkersStarted != 1 || s.QueueHighWater != 2 {
		t.Fatalf("after submit: %+v", s)
	}
	for i, kind := range []byte{FrameResult, FrameException} {
		fr, err := ReadFrame(tasks)
		if err != nil {
			t.Fatal(i, err)
		}
		results.Write(AppendFrame(nil, kind, fr.ID, []byte("x")))
		if i == 0 {
			waitFor(t, "f1", func() bool { return f1.State() == Finished })
		}
	}
	waitFor(t, "f2", func() bool { return f2.State() == Finished })
	s = p.Stats().Snapshot()
	if s.Completed != 1 || s.Failed != 1 || s.Cancelled != 1 || s.Queued != 0 || s.Running != 0 {
		t.Fatalf("after results: %+v", s)
	}
	f4 := NewFuture()
	p.Submit(f4, []byte("call"))
	if _, err := ReadFrame(tasks); err != nil {
		t.Fatal(err)
	}
	results.Close() // the worker dies with f4 in flight
	waitFor(t, "the worker's death", func() bool { return p.Stats().Snapshot().WorkersDied == 1 })
	s = p.Stats().Snapshot()
	if s.WorkersAlive != 0 || s.WorkersReplaced != 0 || s.Submitted != 4 ||
		s.Completed+s.Failed+s.Cancelled+s.Running+s.Queued != s.Submitted {
		t.Fatalf("after death: %+v", s)
	}
	// The dead worker's own in-flight task fails with the pool.
	if !f4.Wait(10*time.Second) || f4.State() != Finished || !f4.Failed() {
		t.Fatalf("f4 is %v (failed=%v) after its worker died", f4.State(), f4.Failed())
	}
	waitFor(t, "f4 counted failed", func() bool { return p.Stats().Snapshot().Running == 0 })
}

// max_tasks_per_child: a worker that retires cleanly from an open pool
// counts as replaced, and its successor as started.
func TestProcPoolStatsWorkerReplaced(t *testing.T) {
	p := NewProcPool(1, 1, 1)
	defer p.Close()
	tasks, taskR, results := fakeWorker(t, p)
	defer taskR.Close()
	f1, f2 := NewFuture(), NewFuture()
	p.Submit(f1, []byte("a"))
	p.Submit(f2, []byte("b"))
	fr, err := ReadFrame(tasks)
	if err != nil {
		t.Fatal(err)
	}
	results.Write(AppendFrame(nil, FrameResult, fr.ID, nil))
	if q, err := ReadFrame(tasks); err != nil || q.Kind != FrameQuit {
		t.Fatalf("want quit, got %v %v", q, err)
	}
	results.Close()
	waitFor(t, "the retirement", func() bool { return p.Stats().Snapshot().WorkersReplaced == 1 })
	tasks2, taskR2, results2 := fakeWorker(t, p)
	defer taskR2.Close()
	defer results2.Close()
	fr, err = ReadFrame(tasks2)
	if err != nil {
		t.Fatal(err)
	}
	results2.Write(AppendFrame(nil, FrameResult, fr.ID, nil))
	waitFor(t, "f2", func() bool { return f2.State() == Finished })
	s := p.Stats().Snapshot()
	if s.WorkersStarted != 2 || s.WorkersReplaced != 1 || s.WorkersDied != 0 || s.WorkersAlive != 1 ||
		s.Completed != 2 || s.Run.Count != 2 || s.Wait.Count != 2 {
		t.Fatalf("got %+v", s)
	}
}
