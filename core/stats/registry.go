package stats

import (
	"sort"
	"sync"
)

// The registry of live pools, and the totals of closed ones, for the
// process-wide figures. Only pool creation, Close and readers take its
// lock; the hot path never does.
var reg = struct {
	sync.Mutex
	next    int64
	live    map[int64]*Pool
	retired raw // folded in by Close
}{live: map[int64]*Pool{}}

// NewPool registers a pool of the given kind.
func NewPool(kind string) *Pool {
	reg.Lock()
	defer reg.Unlock()
	reg.next++
	p := &Pool{id: reg.next, kind: kind}
	p.indexCounters()
	reg.live[p.id] = p
	return p
}

// Close removes the pool from the registry and keeps its figures in the
// process-wide totals. The pool stays readable. Close is idempotent.
func (p *Pool) Close() {
	reg.Lock()
	defer reg.Unlock()
	if reg.live[p.id] == p {
		delete(reg.live, p.id)
		fold(&reg.retired, p)
	}
}

// Lookup returns the live pool with that id, or nil.
func Lookup(id int64) *Pool {
	reg.Lock()
	defer reg.Unlock()
	return reg.live[id]
}

// Live returns the live pools, oldest first.
func Live() []*Pool {
	reg.Lock()
	ps := make([]*Pool, 0, len(reg.live))
	for _, p := range reg.live {
		ps = append(ps, p)
	}
	reg.Unlock()
	sort.Slice(ps, func(i, j int) bool { return ps[i].id < ps[j].id })
	return ps
}

// Global is the process-wide total: every pool ever made, live or closed.
// Each pool's share is a consistent read, so the sum is consistent too.
// The high-water mark is the largest of any one pool.
func Global() Snapshot {
	reg.Lock()
	defer reg.Unlock()
	r := reg.retired
	for _, p := range reg.live {
		fold(&r, p)
	}
	return r.snapshot()
}

// fold adds one consistent read of p into r (high-water mark: the largest).
func fold(r *raw, p *Pool) {
	hw := r.n[cHighWater]
	r.n[cHighWater] = 0
	p.read(r) // adds to r's counters
	if hw > r.n[cHighWater] {
		r.n[cHighWater] = hw
	}
}
