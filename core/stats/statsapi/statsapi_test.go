package statsapi

import (
	"testing"

	"github.com/gofutures/gofutures/core/stats"
)

func TestPoolAndGlobal(t *testing.T) {
	p := stats.NewPool(stats.KindThread)
	SetName(p.ID(), "demo")
	p.Submitted(1)
	t0 := stats.Now()
	p.Started(t0, t0)
	p.Finished(stats.OutcomeFailed, t0, stats.Now())
	s := Read(p.ID())
	if s.ID != p.ID() || s.Kind != "thread" || s.Name != "demo" || s.Submitted != 1 || s.Failed != 1 ||
		s.WaitCount != 1 || s.WaitMax != 0 || s.RunCount != 1 || s.RunP50 > s.RunMax {
		t.Fatalf("got %+v", s)
	}
	found := false
	for _, id := range LivePools() {
		found = found || id == p.ID()
	}
	if !found {
		t.Fatal("pool not listed")
	}
	p.Close()
	if Read(p.ID()).ID != 0 {
		t.Fatal("closed pool still readable by id")
	}
	if g := Read(0); g.Kind != "all" || g.Failed < 1 {
		t.Fatalf("global %+v", g)
	}
}
