package statsapi

import (
	"testing"

	"github.com/gofutures/gofutures/core/stats"
)

func TestPoolAndGlobal(t *testing.T) {
	p := stats.NewPool(stats.KindThread)
	SetName(p.ID(), "demo")
	p.Submitted(1)
	p.Started(0, 5)
	p.Finished(stats.OutcomeFailed, 5, 25)
	s := Pool(p.ID())
	if s.ID != p.ID() || s.Kind != "thread" || s.Name != "demo" || s.Submitted != 1 || s.Failed != 1 ||
		s.WaitMax != 5 || s.RunMax != 20 || s.RunCount != 1 {
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
	if Pool(p.ID()).ID != 0 {
		t.Fatal("closed pool still readable by id")
	}
	if g := Global(); g.Kind != "all" || g.Failed < 1 {
		t.Fatalf("global %+v", g)
	}
}
