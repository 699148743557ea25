package core

import (
	"bufio"
	"testing"
)

// A worker that sends its last result (FrameResultLast: max_worker_memory)
// exits: the task prefetched behind it never ran there and runs on the
// replacement, once, with its bytes; the exit is a replacement, not a death.
func TestProcPoolLastResultRequeuesAndReplaces(t *testing.T) {
	p := NewProcPool(1, 0, 2)
	ev := collect(t, p)
	first, b, c := NewFuture(), NewFuture(), NewFuture()
	spawn, _ := p.Submit(first, []byte("first"))
	if !spawn {
		t.Fatal("no worker asked for")
	}
	// A hand-driven fake worker: ready, then it reads nothing until both
	// tasks are in flight on it.
	w, id := addFake(t, p, 8001, nil)
	w.resultW.Write(readyFrame)
	awaitReady(t, p, id)
	p.Submit(b, []byte("b"))
	p.Submit(c, []byte("c"))
	if n := inflightOf(p)[8001]; n != 2 {
		t.Fatalf("in flight on the first worker: %d; want its task and one prefetched behind it", n)
	}
	fr, err := ReadFrame(bufio.NewReader(w.taskR))
	if err != nil || string(fr.Payload) != "first" {
		t.Fatalf("first frame: %+v %v", fr, err)
	}
	// Its last answer, and the process ends (its pipes close).
	w.resultW.Write(AppendFrame(nil, FrameResultLast, fr.ID, fr.Payload))
	w.resultW.Close()
	w.taskR.Close()
	waitDone(t, first, b, c)
	assertResults(t, map[*Future]string{first: "first", b: "b", c: "c"})
	p.Shutdown(false)
	<-ev.done
	if ev.spawns != 1 || ev.count(EvBroken) != 0 {
		t.Fatalf("spawns=%d events=%+v", ev.spawns, ev.seen)
	}
	if s := p.Stats().Snapshot(); s.Completed != 3 || s.WorkersReplaced != 1 || s.WorkersDied != 0 {
		t.Fatalf("stats: %+v", s)
	}
}
