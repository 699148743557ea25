package stats

import (
	"math/rand"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBucketsCoverRangeInOrder(t *testing.T) {
	for _, v := range []int64{0, 1, 15, 16, 17, 31, 32, 33, 1000, 1 << 20, 123456789, 1<<62 + 5, 1<<63 - 1} {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d out of range", v, i)
		}
		if hi := bucketHigh(i); v > hi {
			t.Fatalf("v=%d above its bucket's high %d", v, hi)
		}
		if i > 0 && bucketHigh(i-1) >= v {
			t.Fatalf("v=%d not above the previous bucket's high %d", v, bucketHigh(i-1))
		}
	}
	for i := 1; i < numBuckets; i++ {
		if bucketHigh(i) <= bucketHigh(i-1) {
			t.Fatalf("bucket %d high %d <= bucket %d high %d", i, bucketHigh(i), i-1, bucketHigh(i-1))
		}
		if bucketOf(bucketHigh(i)) != i || bucketOf(bucketHigh(i-1)+1) != i {
			t.Fatalf("bucket %d bounds do not map back", i)
		}
	}
}

func TestPercentilesWithinBucketError(t *testing.T) {
	var h Histogram
	r := rand.New(rand.NewSource(1))
	vals := make([]int64, 10000)
	for i := range vals {
		vals[i] = int64(r.ExpFloat64() * 1e6)
		h.Record(vals[i])
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	var c counts
	h.addTo(&c)
	l := c.latency(1)
	if l.Count != 10000 || l.Max != vals[len(vals)-1] {
		t.Fatalf("count %d max %d, want 10000 %d", l.Count, l.Max, vals[len(vals)-1])
	}
	for _, q := range []struct {
		got int64
		pct int
	}{{l.P50, 50}, {l.P90, 90}, {l.P99, 99}} {
		exact := vals[(q.pct*len(vals)+99)/100-1]
		if q.got < exact || float64(q.got) > float64(exact)*(1+1.0/subBuckets)+1 {
			t.Errorf("p%d = %d, exact %d", q.pct, q.got, exact)
		}
	}
	if !(l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("unordered %+v", l)
	}
}

func TestEmptyAndSingle(t *testing.T) {
	var h Histogram
	var c counts
	h.addTo(&c)
	if l := c.latency(1); l != (Latency{}) {
		t.Fatalf("empty: %+v", l)
	}
	h.Record(-5) // clock skew: counts as 0
	h.Record(777)
	c = counts{}
	h.addTo(&c)
	l := c.latency(1)
	if l.Count != 2 || l.Max != 777 || l.P99 != 777 || l.P50 != 0 {
		t.Fatalf("got %+v", l)
	}
}

// A scripted run: exact counts.
func TestScriptedCounts(t *testing.T) {
	p := NewPool(KindThread)
	defer p.Close()
	p.WorkerStarted()
	for i := 0; i < 10; i++ {
		p.Submitted(i + 1)
	}
	now := Now()
	for i := 0; i < 6; i++ {
		p.Started(now, now+10)
	}
	p.Finished(OutcomeOK, now, now+100)
	p.Finished(OutcomeOK, now, now+100)
	p.Finished(OutcomeFailed, now, now+100)
	p.Finished(OutcomeCancelled, now, now+100)
	p.LeftQueue(3, false)
	s := p.Snapshot()
	want := Snapshot{Submitted: 10, Queued: 1, Running: 2, Completed: 2, Failed: 1, Cancelled: 4,
		WorkersAlive: 1, WorkersStarted: 1, QueueHighWater: 10}
	got := s
	got.Wait, got.Run = Latency{}, Latency{}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	k := nsPerTick()
	if s.Wait.Count != 6 || s.Run.Count != 3 || s.Run.Max != toNs(100, k) || s.Wait.Max != toNs(10, k) {
		t.Fatalf("latencies %+v %+v", s.Wait, s.Run)
	}
	p.LeftQueue(1, true)
	p.WorkerExited(true, false)
	p.WorkerExited(false, true) // a crash of a worker never counted started is still counted
	s = p.Snapshot()
	if s.Queued != 0 || s.Failed != 2 || s.WorkersReplaced != 1 || s.WorkersDied != 1 || s.WorkersAlive != -1 {
		t.Fatalf("got %+v", s)
	}
}

// Snapshots taken while many goroutines move tasks through every stage
// always add up, and never show a negative stage.
func TestSnapshotsConsistentUnderLoad(t *testing.T) {
	p := NewPool(KindThread)
	defer p.Close()
	const workers, per = 4, 3000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var bad []Snapshot
	var badMu sync.Mutex
	check := func(s Snapshot) {
		if s.Completed+s.Failed+s.Cancelled+s.Running+s.Queued != s.Submitted || s.Queued < 0 || s.Running < 0 {
			badMu.Lock()
			bad = append(bad, s)
			badMu.Unlock()
		}
	}
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			check(p.Snapshot())
			check(Global())
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				t0 := Now()
				p.Submitted(1)
				switch i % 4 {
				case 0:
					p.LeftQueue(1, false)
				default:
					p.Started(t0, Now())
					p.Finished(Outcome(1+i%3), t0, Now())
				}
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d inconsistent snapshots, first %+v", len(bad), bad[0])
	}
	s := p.Snapshot()
	if s.Submitted != workers*per || s.Queued != 0 || s.Running != 0 {
		t.Fatalf("final %+v", s)
	}
}

func TestRegistryAndGlobal(t *testing.T) {
	before := Global()
	a, b := NewPool(KindThread), NewPool(KindProcess)
	a.SetName("A")
	if Lookup(a.ID()) != a || Lookup(b.ID()) != b || a.Name() != "A" || b.Name() != "" {
		t.Fatal("lookup/name")
	}
	a.Submitted(7)
	b.Submitted(3)
	b.Submitted(4)
	g := Global()
	if g.Submitted-before.Submitted != 3 || g.Queued-before.Queued != 3 {
		t.Fatalf("global %+v before %+v", g, before)
	}
	if g.QueueHighWater < 7 {
		t.Fatalf("high water %d", g.QueueHighWater)
	}
	a.Close()
	a.Close()
	if Lookup(a.ID()) != nil {
		t.Fatal("closed pool still live")
	}
	for _, p := range Live() {
		if p == a {
			t.Fatal("closed pool listed")
		}
	}
	if g2 := Global(); g2.Submitted != g.Submitted {
		t.Fatalf("closing lost figures: %d != %d", g2.Submitted, g.Submitted)
	}
	if a.Snapshot().Submitted != 1 {
		t.Fatal("closed pool unreadable")
	}
	b.Close()
}

func BenchmarkHotPath(b *testing.B) {
	p := NewPool(KindThread)
	defer p.Close()
	for i := 0; i < b.N; i++ {
		t0 := Now()
		p.Submitted(1)
		t1 := Now()
		p.Started(t0, t1)
		p.Finished(OutcomeOK, t1, Now())
	}
}

func BenchmarkSnapshot(b *testing.B) {
	p := NewPool(KindThread)
	defer p.Close()
	for i := 0; i < b.N; i++ {
		p.Snapshot()
	}
}

func BenchmarkNow(b *testing.B) {
	var s int64
	for i := 0; i < b.N; i++ {
		s += Now()
	}
	_ = s
}

func BenchmarkCounters(b *testing.B) {
	p := NewPool(KindThread)
	defer p.Close()
	for i := 0; i < b.N; i++ {
		p.Submitted(1)
		p.Started(0, 10)
		p.Finished(OutcomeOK, 10, 20)
	}
}

// Timestamps converted to nanoseconds measure at least the time slept and
// at most the wall time around it (in the TSC's case this checks the
// calibration).
func TestClockConversion(t *testing.T) {
	t.Logf("TSC in use: %v", useTSC)
	for i := 0; i < 3; i++ {
		wall := time.Now()
		a := Now()
		time.Sleep(20 * time.Millisecond)
		b := Now()
		w := time.Since(wall)
		d := toNs(b-a, nsPerTick())
		if d < int64(20*time.Millisecond)*99/100 || d > int64(w)*101/100 {
			t.Fatalf("measured %d ns for a 20 ms sleep within %d ns of wall time", d, w)
		}
	}
}

func BenchmarkNewClose(b *testing.B) {
	for i := 0; i < b.N; i++ {
		p := NewPool(KindThread)
		p.Close()
	}
}

// read goes through p.counters: every entry must be set, each to its own
// counter (a c* constant added without its entry in indexCounters would
// compile and leave a nil that read dereferences).
func TestCountersIndexed(t *testing.T) {
	p := NewPool(KindThread)
	defer p.Close()
	seen := map[*atomic.Int64]int{}
	for i, c := range p.counters {
		if c == nil {
			t.Fatalf("counter %d has no entry in indexCounters", i)
		}
		if j, dup := seen[c]; dup {
			t.Fatalf("counters %d and %d are the same field", j, i)
		}
		seen[c] = i
	}
	p.Submitted(1)
	if s := p.Snapshot(); s.Submitted != 1 || s.Queued != 1 {
		t.Fatalf("a submit read through the table: %+v", s)
	}
}
