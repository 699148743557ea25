// Package statsapi is the Python-facing surface of core/stats, made of
// plain values only so that gopy can generate its bindings (see
// pybind/gopy/regen.py). Nothing here is on a task's path: Python calls it
// to read figures, Go never calls Python.
package statsapi

import "github.com/gofutures/gofutures/core/stats"

// Snapshot is one consistent reading of a pool, or of the whole process
// (ID 0). Latencies are in nanoseconds: Wait* from submit to leaving the
// queue, Run* from leaving the queue to leaving the worker.
type Snapshot struct {
	ID   int64
	Kind string
	Name string

	Submitted int64
	Queued    int64
	Running   int64
	Completed int64
	Failed    int64
	Cancelled int64

	WorkersAlive    int64
	WorkersStarted  int64
	WorkersReplaced int64
	WorkersDied     int64
	QueueHighWater  int64

	WaitCount int64
	WaitMean  int64
	WaitP50   int64
	WaitP90   int64
	WaitP99   int64
	WaitMax   int64

	RunCount int64
	RunMean  int64
	RunP50   int64
	RunP90   int64
	RunP99   int64
	RunMax   int64
}

func flatten(s stats.Snapshot) Snapshot {
	return Snapshot{
		Submitted: s.Submitted, Queued: s.Queued, Running: s.Running,
		Completed: s.Completed, Failed: s.Failed, Cancelled: s.Cancelled,
		WorkersAlive: s.WorkersAlive, WorkersStarted: s.WorkersStarted,
		WorkersReplaced: s.WorkersReplaced, WorkersDied: s.WorkersDied,
		QueueHighWater: s.QueueHighWater,
		WaitCount:      s.Wait.Count, WaitMean: s.Wait.Mean, WaitP50: s.Wait.P50,
		WaitP90: s.Wait.P90, WaitP99: s.Wait.P99, WaitMax: s.Wait.Max,
		RunCount: s.Run.Count, RunMean: s.Run.Mean, RunP50: s.Run.P50,
		RunP90: s.Run.P90, RunP99: s.Run.P99, RunMax: s.Run.Max,
	}
}

// Read returns the figures of the live pool with that id (ID is 0 when no
// such pool is live), or with id 0 the process-wide totals (every pool,
// live or closed; Kind "all").
//
// (One function returning Snapshot, not two: gopy emits a struct's
// "constructors" in map order, which would make its output vary from run
// to run and defeat the check that the checked-in bindings are current.)
func Read(id int64) Snapshot {
	if id == 0 {
		s := flatten(stats.Global())
		s.Kind = "all"
		return s
	}
	p := stats.Lookup(id)
	if p == nil {
		return Snapshot{}
	}
	s := flatten(p.Snapshot())
	s.ID, s.Kind, s.Name = p.ID(), p.Kind(), p.Name()
	return s
}

// LivePools returns the ids of the live pools, oldest first.
func LivePools() []int64 {
	ps := stats.Live()
	ids := make([]int64, len(ps))
	for i, p := range ps {
		ids[i] = p.ID()
	}
	return ids
}

// SetName names a live pool (shown by `python -m gofutures top`).
func SetName(id int64, name string) {
	if p := stats.Lookup(id); p != nil {
		p.SetName(name)
	}
}
