package core

import (
	"math/rand"
	"slices"
	"sort"
	"testing"

	"github.com/gofutures/gofutures/core/stats"
)

// Priorities (issue 18): among queued tasks, lower numbers first, ties in
// submission order; so queueing tasks then running them all is a stable
// sort by priority.

// randPrios draws n priorities from a small range around 0 (ties, the
// default priority, negative ones), now and then an extreme.
func randPrios(r *rand.Rand, n int) []int64 {
	ps := make([]int64, n)
	for i := range ps {
		switch r.Intn(10) {
		case 0:
			ps[i] = -1 << 63
		case 1:
			ps[i] = 1<<63 - 1
		case 2, 3, 4:
			ps[i] = DefaultPriority
		default:
			ps[i] = int64(r.Intn(7) - 3)
		}
	}
	return ps
}

// stableOrder is the indices of ps in stable-sorted order.
func stableOrder(ps []int64) []int {
	idx := make([]int, len(ps))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ps[idx[a]] < ps[idx[b]] })
	return idx
}

func TestPrioHeapIsAStableSort(t *testing.T) {
	r := rand.New(rand.NewSource(18))
	for round := 0; round < 500; round++ {
		ps := randPrios(r, r.Intn(60))
		var h prioHeap[int]
		for i, p := range ps {
			h.push(p, uint64(i), i)
		}
		want := stableOrder(ps)
		for k, w := range want {
			if got := h.pop(); got != w {
				t.Fatalf("round %d: pop %d = task %d, want %d (prios %v)", round, k, got, w, ps)
			}
		}
		if h.len() != 0 {
			t.Fatalf("round %d: %d left", round, h.len())
		}
	}
}

// The queue against a model (a list popped at its (priority, submission)
// minimum), with pushes and pops interleaved: the FIFO fast path, the move
// into the heap when a non-default priority comes, and back to the FIFO
// once the heap drains.
func TestTaskQueueInterleavedMatchesModel(t *testing.T) {
	r := rand.New(rand.NewSource(1818))
	type item struct {
		prio int64
		id   int
	}
	for round := 0; round < 300; round++ {
		var q taskQueue
		var model []item
		next := 0
		for step := 0; step < 200; step++ {
			if r.Intn(3) > 0 {
				p := DefaultPriority
				if r.Intn(4) == 0 { // mostly default: the FIFO is used too
					p = randPrios(r, 1)[0]
				}
				q.push(queued{t: Task(next)}, p)
				model = append(model, item{p, next})
				next++
			} else {
				e, ok := q.pop()
				if ok != (len(model) > 0) {
					t.Fatalf("round %d step %d: pop ok=%v with %d in the model", round, step, ok, len(model))
				}
				if !ok {
					continue
				}
				best := 0
				for i, m := range model {
					if m.prio < model[best].prio {
						best = i // the first of the lowest: ties in submission order
					}
				}
				if int(e.t) != model[best].id {
					t.Fatalf("round %d step %d: popped %d, want %d", round, step, e.t, model[best].id)
				}
				model = append(model[:best], model[best+1:]...)
			}
			if q.len() != len(model) {
				t.Fatalf("round %d step %d: len %d, want %d", round, step, q.len(), len(model))
			}
			if q.size > 0 && q.heap.len() > 0 {
				t.Fatalf("round %d step %d: both the FIFO and the heap hold tasks", round, step)
			}
		}
	}
}

// The thread pool's scheduler: a worker that was busy while tasks of mixed
// priorities were queued takes them in stable-sorted order.
func TestThreadPoolRunsByPriority(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for round := 0; round < 50; round++ {
		p := NewThreadPool(1)
		w := p.NewTokenWorker(0)
		ps := randPrios(r, 1+r.Intn(40))
		for i, pr := range ps {
			var err error
			if pr == DefaultPriority && r.Intn(2) == 0 {
				_, err = p.Submit(Task(i), nil) // plain submit mixes in
			} else {
				_, err = p.SubmitPriority(Task(i), nil, pr)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if c := p.Counts(); c.Queued != len(ps) {
			t.Fatalf("queued %d, want %d", c.Queued, len(ps))
		}
		for k, want := range stableOrder(ps) {
			task, st := p.NextOrPark(w, stats.OutcomeNone)
			if st != 1 || int(task) != want {
				t.Fatalf("round %d: task %d = %d (st %d), want %d (prios %v)", round, k, task, st, want, ps)
			}
		}
		if _, st := p.NextOrPark(w, stats.OutcomeNone); st != 0 {
			t.Fatalf("st %d with an empty queue", st)
		}
		p.Close()
	}
}

// Shutdown(cancel) hands back every queued task, the heap's included.
func TestThreadPoolShutdownDrainsPriorityTasks(t *testing.T) {
	p := NewThreadPool(1)
	p.Submit(1, nil)
	p.SubmitPriority(2, nil, -5)
	p.SubmitPriority(3, nil, 9)
	out := p.Shutdown(true)
	if len(out) != 3 || out[0] != 2 || out[1] != 1 || out[2] != 3 {
		t.Fatalf("drained %v, want [2 1 3]", out)
	}
	if c := p.Counts(); c.Queued != 0 {
		t.Fatalf("queued %d after the drain", c.Queued)
	}
}

// The process pool: with its one worker busy, tasks of mixed priorities are
// dispatched in stable-sorted order, after the ones started ahead (the
// stdlib's call queue: RUNNING already, in submission order). Plain Submit
// (priority 0) mixes in, and a task cancelled in the queue is dropped.
func TestProcPoolDispatchesByPriority(t *testing.T) {
	r := rand.New(rand.NewSource(99))
	for round := 0; round < 20; round++ {
		p := NewProcPool(1, 0, 1)
		ev := collect(t, p)
		hold := make(chan struct{})
		block := NewFuture()
		spawn, err := p.Submit(block, []byte("b"))
		if err != nil || !spawn {
			t.Fatalf("spawn=%v err=%v", spawn, err)
		}
		w := startFakeHeld(t, p, 1, hold)
		ps := randPrios(r, 1+r.Intn(30))
		fs := make([]*Future, len(ps))
		for i, pr := range ps {
			fs[i] = NewFuture()
			if pr == DefaultPriority && r.Intn(2) == 0 {
				_, err = p.Submit(fs[i], []byte{byte(i)})
			} else {
				_, err = p.SubmitPriority(fs[i], []byte{byte(i)}, 0, pr)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		// Which were started ahead (or sent) stays fixed while the worker
		// holds: nothing dispatches until a result comes back.
		var ahead, rest []int
		var restPrios []int64
		for i, f := range fs {
			if f.State() == Running {
				ahead = append(ahead, i)
			} else {
				rest = append(rest, i)
				restPrios = append(restPrios, ps[i])
			}
		}
		if len(ahead) > 2 { // max_workers+1
			t.Fatalf("%d started ahead", len(ahead))
		}
		cancelled := -1
		if len(rest) > 1 {
			cancelled = rest[r.Intn(len(rest))]
			if c, _ := fs[cancelled].Cancel(); !c {
				t.Fatal("a queued task could not be cancelled")
			}
		}
		want := []uint64{1} // the blocker's task id
		for _, i := range ahead {
			want = append(want, uint64(i+2))
		}
		for _, k := range stableOrder(restPrios) {
			if rest[k] != cancelled {
				want = append(want, uint64(rest[k]+2))
			}
		}
		close(hold)
		waitDone(t, fs...)
		p.Shutdown(false)
		<-ev.done
		<-w.done
		if len(w.ids) != len(want) {
			t.Fatalf("round %d: ran %v, want %v", round, w.ids, want)
		}
		for k := range want {
			if w.ids[k] != want[k] {
				t.Fatalf("round %d: ran %v, want %v (prios %v, ahead %v)", round, w.ids, want, ps, ahead)
			}
		}
		if c := p.Counts(); c.Queued != 0 || c.Completed != int64(len(want)) {
			t.Fatalf("counts %+v", c)
		}
	}
}

// heldPool is a one-worker pool (events collected) whose worker, pid 1,
// holds its first task until hold is closed.
func heldPool(t *testing.T) (p *ProcPool, ev *events, hold chan struct{}) {
	t.Helper()
	p = NewProcPool(1, 0, 1)
	ev = collect(t, p)
	hold = make(chan struct{})
	if spawn, _ := p.Submit(NewFuture(), []byte("b")); spawn {
		startFakeHeld(t, p, 1, hold)
	}
	return p, ev, hold
}

// A task of another priority submitted behind default ones that were
// started ahead jumps the rest of the FIFO but not those.
func TestProcPoolPriorityKeepsStartedAhead(t *testing.T) {
	p, ev, hold := heldPool(t)
	var fs []*Future
	for i := 0; i < 4; i++ {
		f := NewFuture()
		p.Submit(f, []byte{byte(i)}) // ids 2..5; 2 is started ahead
		fs = append(fs, f)
	}
	urgent := NewFuture()
	p.SubmitPriority(urgent, []byte("u"), 0, -1) // id 6
	fs = append(fs, urgent)
	if fs[0].State() != Running || fs[1].State() != Pending || urgent.State() != Pending {
		t.Fatalf("states %v %v %v", fs[0].State(), fs[1].State(), urgent.State())
	}
	if c := p.Counts(); c.Queued != 5 {
		t.Fatalf("queued %d, want 5", c.Queued)
	}
	w, _ := fakesByPID.Load(1)
	close(hold)
	waitDone(t, fs...)
	p.Shutdown(false)
	<-ev.done
	<-w.(*echoWorker).done
	got := w.(*echoWorker).ids
	want := []uint64{1, 2, 6, 3, 4, 5}
	if !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
}

// Shutdown(cancel) cancels and notifies the heap's tasks too; a break
// fails them.
func TestProcPoolShutdownAndBreakReachPriorityTasks(t *testing.T) {
	for _, brk := range []bool{false, true} {
		p, ev, hold := heldPool(t)
		var fs []*Future
		for i := 0; i < 6; i++ {
			f := NewFuture()
			p.SubmitPriority(f, []byte{byte(i)}, 0, int64(5-i))
			fs = append(fs, f)
		}
		queued := 0
		for _, f := range fs {
			if f.State() == Pending {
				queued++
			}
		}
		if brk {
			p.Break()
		} else {
			p.Shutdown(true)
		}
		for _, f := range fs {
			if f.State() == Pending || f.State() == Cancelled {
				t.Fatalf("break=%v: a queued task is left %v", brk, f.State())
			}
		}
		n := 0
		for _, f := range fs {
			if (brk && f.Failed()) || (!brk && f.State() == CancelledAndNotified) {
				n++
			}
		}
		if n < queued {
			t.Fatalf("break=%v: %d of %d queued tasks ended", brk, n, queued)
		}
		// Left queued: the started-ahead ones (RUNNING), after a shutdown.
		running := 0
		for _, f := range fs {
			if f.State() == Running {
				running++
			}
		}
		if c := p.Counts(); c.Queued != running || (brk && running != 0) {
			t.Fatalf("break=%v: queued %d, running %d", brk, c.Queued, running)
		}
		close(hold)
		if !brk {
			waitDone(t, fs...)
		}
		p.Shutdown(false)
		<-ev.done
	}
}

// The queue's cost, FIFO against heap, with a backlog of 1000 tasks (the
// heap's depth matters):
//
//	go test -run x -bench QueueBacklog ./core
func benchQueueBacklog(b *testing.B, prio func(i int) int64) {
	var q taskQueue
	for i := 0; i < 1000; i++ {
		q.push(queued{t: Task(i)}, prio(i))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q.push(queued{t: Task(i)}, prio(i))
		q.pop()
	}
}

func BenchmarkQueueBacklogFIFO(b *testing.B) {
	benchQueueBacklog(b, func(int) int64 { return DefaultPriority })
}

func BenchmarkQueueBacklogHeap(b *testing.B) {
	benchQueueBacklog(b, func(i int) int64 { return int64(i*7919%64 - 32) })
}
