package core

import (
	"fmt"
	"math/rand"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Test shorthands (production code registers whole sets with RegisterAll
// and takes with TakeAtMost):

// Register registers f alone as member idx, through RegisterAll over a set
// whose only entry is at idx; already reports that f had completed (it is
// then not registered), with its outcome.
func (w *Waiter) Register(f *Future, idx int) (already bool, o Outcome) {
	fs := make([]*Future, idx+1)
	fs[idx] = f
	w.RegisterAll(fs, func(_ int, out Outcome) { already, o = true, out })
	return already, o
}

// Take takes every member notified since the last take.
func (w *Waiter) Take() []int { return w.TakeAtMost(-1) }

// Finished returns how many members were notified and not yet taken.
func (w *Waiter) Finished() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.finished)
}

func newFutures(n int) []*Future {
	fs := make([]*Future, n)
	for i := range fs {
		fs[i] = NewFuture()
	}
	return fs
}

// armedWaiter is an armed waiter of kind over n new futures, each
// registered at its index.
func armedWaiter(t *testing.T, kind WaitKind, n int) ([]*Future, *Waiter) {
	t.Helper()
	fs := newFutures(n)
	w := NewWaiter(kind)
	registerAll(t, w, fs)
	w.Arm()
	return fs, w
}

// goN runs body(0) .. body(n-1) on n goroutines; wait waits for them all.
func goN(n int, body func(g int)) (wait func()) {
	var wg sync.WaitGroup
	wg.Add(n)
	for g := 0; g < n; g++ {
		go func() {
			defer wg.Done()
			body(g)
		}()
	}
	return wg.Wait
}

// striped runs body(i) for every i in [0, n) on g goroutines, goroutine k
// taking k, k+g, k+2g, ...; wait waits for them all.
func striped(n, g int, body func(i int)) (wait func()) {
	return goN(g, func(k int) {
		for i := k; i < n; i += g {
			body(i)
		}
	})
}

// registerAll registers every future at its index and fails on already=true.
func registerAll(t *testing.T, w *Waiter, fs []*Future) {
	t.Helper()
	for i, f := range fs {
		if already, _ := w.Register(f, i); already {
			t.Fatalf("Register(%d) on a live future returned already=true", i)
		}
	}
}

func assertFired(t *testing.T, w *Waiter, want bool, what string) {
	t.Helper()
	if got := w.Wait(0); got != want {
		t.Fatalf("%s: fired = %v, want %v", what, got, want)
	}
}

func assertTake(t *testing.T, w *Waiter, want ...int) {
	t.Helper()
	got := w.Take()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Take() = %v, want %v", got, want)
	}
}

// completions are the ways a member can be notified.
var completions = []struct {
	name     string
	complete func(f *Future)
	outcome  Outcome
}{
	{"result", func(f *Future) { f.Finish(false) }, OutcomeResult},
	{"exception", func(f *Future) { f.Finish(true) }, OutcomeException},
	{"cancelled", func(f *Future) { f.Cancel(); f.SetRunningOrNotifyCancel() }, OutcomeCancelled},
}

// A waiterScript runs its steps in order on one new waiter of its kind over
// n new futures (fs); a step acts on the waiter or its members, or checks.
type waiterScript struct {
	name  string
	kind  WaitKind
	n     int
	steps []wstep
}

type wstep func(t *testing.T, w *Waiter, fs []*Future)

func (s waiterScript) run(t *testing.T) {
	t.Helper()
	fs := newFutures(s.n)
	w := NewWaiter(s.kind)
	for _, step := range s.steps {
		step(t, w, fs)
	}
}

// runScripts runs each script as a subtest named after it.
func runScripts(t *testing.T, scripts ...waiterScript) {
	for _, s := range scripts {
		t.Run(s.name, s.run)
	}
}

// Steps on the members: fs[i] is completed, cancelled or started.
func on(i int, do func(f *Future)) wstep {
	return func(_ *testing.T, _ *Waiter, fs []*Future) { do(fs[i]) }
}
func result(i int) wstep     { return on(i, func(f *Future) { f.Finish(false) }) }
func exception(i int) wstep  { return on(i, func(f *Future) { f.Finish(true) }) }
func cancel(i int) wstep     { return on(i, func(f *Future) { f.Cancel() }) }
func setRunning(i int) wstep { return on(i, func(f *Future) { f.SetRunningOrNotifyCancel() }) }

// Steps on the waiter.
var (
	arm    wstep = func(_ *testing.T, w *Waiter, _ []*Future) { w.Arm() }
	regAll wstep = func(t *testing.T, w *Waiter, fs []*Future) { registerAll(t, w, fs) }
)

// regFirst registers fs[:k] (each must be live).
func regFirst(k int) wstep {
	return func(t *testing.T, w *Waiter, fs []*Future) { registerAll(t, w, fs[:k]) }
}

// register registers fs[i] at i, whatever it answers.
func register(i int) wstep {
	return func(_ *testing.T, w *Waiter, fs []*Future) { w.Register(fs[i], i) }
}

// registerDone registers fs[i], which must answer already with outcome o.
func registerDone(i int, o Outcome) wstep {
	return func(t *testing.T, w *Waiter, fs []*Future) {
		t.Helper()
		if already, got := w.Register(fs[i], i); !already || got != o {
			t.Fatalf("Register of finished = %v, %v", already, got)
		}
	}
}

func external(n int) wstep {
	return func(_ *testing.T, w *Waiter, _ []*Future) { w.AddExternal(n) }
}

func notify(i int, o Outcome) wstep {
	return func(_ *testing.T, w *Waiter, _ []*Future) { w.Notify(i, o) }
}

// Checks.
func fired(want bool, what string) wstep {
	return func(t *testing.T, w *Waiter, _ []*Future) { t.Helper(); assertFired(t, w, want, what) }
}

func took(want ...int) wstep {
	return func(t *testing.T, w *Waiter, _ []*Future) { t.Helper(); assertTake(t, w, want...) }
}

func finished(want int, what string) wstep {
	return func(t *testing.T, w *Waiter, _ []*Future) {
		t.Helper()
		if got := w.Finished(); got != want {
			t.Fatalf("%s: Finished() = %d, want %d", what, got, want)
		}
	}
}

// notFiredWithin checks that a timed Wait(d) does not fire.
func notFiredWithin(d time.Duration, msg string) wstep {
	return func(t *testing.T, w *Waiter, _ []*Future) {
		t.Helper()
		if w.Wait(d) {
			t.Fatal(msg)
		}
	}
}

func TestWaiterAsCompleted(t *testing.T) {
	waiterScript{kind: AsCompleted, n: 4, steps: []wstep{
		regAll, arm, fired(false, "after Arm, nothing completed"),
		notFiredWithin(mustNotYet/5, "timed Wait fired with nothing completed"),

		result(2), fired(true, "after one result"), finished(1, "after one result"),
		took(2), fired(false, "after Take (re-armed)"), finished(0, "after Take"),

		exception(0), cancel(3), fired(true, "after an exception"),
		setRunning(3), setRunning(1), result(1), finished(3, "after three more"),
		took(0, 3, 1), fired(false, "after second Take"),
		took(), // nothing new
	}}.run(t)
}

func TestWaiterFirstCompleted(t *testing.T) {
	for _, c := range completions {
		runScripts(t, waiterScript{c.name, FirstCompleted, 3, []wstep{
			regAll, arm, fired(false, "after Arm"),
			setRunning(1), fired(false, "after a member started running"),
			cancel(0), fired(false, "after a member was cancelled but not notified"),
			on(2, c.complete), fired(true, "after a member completed with "+c.name),
			took(2),
		}})
	}
}

func TestWaiterFirstException(t *testing.T) {
	runScripts(t, waiterScript{"exception fires at once", FirstException, 4, []wstep{
		regAll, arm,
		result(0), fired(false, "after a result"),
		cancel(1), setRunning(1), fired(false, "after a cancellation"),
		exception(3), fired(true, "after an exception"),
		took(0, 1, 3),
	}}, waiterScript{"fires when all complete without exception", FirstException, 3, []wstep{
		regAll, arm,
		result(2), fired(false, "1/3 done"),
		cancel(0), setRunning(0), fired(false, "2/3 done"),
		result(1), fired(true, "3/3 done"),
		took(2, 0, 1),
	}}, waiterScript{"exception before Arm fires", FirstException, 3, []wstep{
		regFirst(2), exception(1), fired(true, "exception during registration"),
		register(2), arm, fired(true, "after Arm"),
		took(1),
	}})
}

func TestWaiterAllCompleted(t *testing.T) {
	for _, c := range completions {
		c := c
		t.Run(c.name, func(t *testing.T) {
			fs, w := armedWaiter(t, AllCompleted, 5)
			order := []int{3, 0, 4, 1, 2}
			for k, i := range order {
				assertFired(t, w, false, fmt.Sprintf("%d/5 done", k))
				if k == 2 {
					// A cancelled but not yet notified member is not done.
					fs[i].Cancel()
					assertFired(t, w, false, "after a plain Cancel")
					fs[i].SetRunningOrNotifyCancel()
					continue
				}
				c.complete(fs[i])
			}
			assertFired(t, w, true, "5/5 done")
			if !w.Wait(-1) || !w.Wait(time.Millisecond) {
				t.Fatal("fired waiter does not stay fired")
			}
			assertTake(t, w, order...)
		})
	}
}

func TestWaiterRegisterAlready(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(f *Future)
		already bool
		outcome Outcome
	}{
		{"pending", func(f *Future) {}, false, 0},
		{"running", func(f *Future) { f.SetRunningOrNotifyCancel() }, false, 0},
		{"cancelled", func(f *Future) { f.Cancel() }, false, 0},
		{"cancelled-and-notified", func(f *Future) { f.Cancel(); f.SetRunningOrNotifyCancel() }, true, OutcomeCancelled},
		{"finished-result", func(f *Future) { f.Finish(false) }, true, OutcomeResult},
		{"finished-exception", func(f *Future) { f.Finish(true) }, true, OutcomeException},
		{"running-finished-exception", func(f *Future) { f.SetRunningOrNotifyCancel(); f.Finish(true) }, true, OutcomeException},
		{"forced-finished-exception", func(f *Future) { f.Force(Finished, true) }, true, OutcomeException},
		{"forced-finished-result", func(f *Future) { f.Force(Finished, false) }, true, OutcomeResult},
		{"forced-cancelled-and-notified", func(f *Future) { f.Force(CancelledAndNotified, false) }, true, OutcomeCancelled},
		{"forced-cancelled", func(f *Future) { f.Force(Cancelled, true) }, false, 0},
	}
	for _, kind := range []WaitKind{AsCompleted, FirstCompleted, FirstException, AllCompleted} {
		for _, c := range cases {
			c := c
			t.Run(fmt.Sprintf("kind%d/%s", kind, c.name), func(t *testing.T) {
				f := NewFuture()
				c.setup(f)
				w := NewWaiter(kind)
				already, o := w.Register(f, 4)
				if already != c.already {
					t.Fatalf("Register already = %v, want %v", already, c.already)
				}
				if already && o != c.outcome {
					t.Fatalf("Register outcome = %v, want %v", o, c.outcome)
				}
				nw := registrations(f)
				if already && nw != 0 {
					t.Fatalf("already-completed future has %d registrations", nw)
				}
				if !already && nw != 1 {
					t.Fatalf("live future has %d registrations, want 1", nw)
				}
				w.Arm()
				// An already-completed member is not counted, so an
				// AllCompleted/FirstException waiter with no other
				// members fires at Arm; the others do not fire.
				if already {
					wantFire := kind == AllCompleted || kind == FirstException
					assertFired(t, w, wantFire, "Arm with only an already-completed member")
					assertTake(t, w) // not reported through the waiter
				} else {
					assertFired(t, w, false, "Arm with a live member")
				}
			})
		}
	}
}

func TestWaiterArmEmpty(t *testing.T) {
	for _, kind := range []WaitKind{AsCompleted, FirstCompleted, FirstException, AllCompleted} {
		w := NewWaiter(kind)
		assertFired(t, w, false, fmt.Sprintf("kind %d before Arm", kind))
		w.Arm()
		want := kind == AllCompleted || kind == FirstException
		assertFired(t, w, want, fmt.Sprintf("kind %d empty after Arm", kind))
	}
}

// An AllCompleted waiter must not fire while registration is still under
// way, even when every member registered so far has completed.
func TestWaiterAllCompletedArmSemantics(t *testing.T) {
	for _, kind := range []WaitKind{AllCompleted, FirstException} {
		runScripts(t, waiterScript{fmt.Sprintf("kind%d", kind), kind, 3, []wstep{
			register(0), result(0), // completes mid-registration
			fired(false, "all registered members done, not armed"),
			register(1), result(1), fired(false, "all registered members done, not armed"),
			// fs[2] completes before being registered.
			result(2), registerDone(2, OutcomeResult), fired(false, "before Arm"),
			notFiredWithin(mustNotYet/5, "timed Wait fired before Arm"),
			arm, fired(true, "all members done at Arm"),
			took(0, 1),
		}})
	}

	runScripts(t, waiterScript{"arm with members still pending", AllCompleted, 3, []wstep{
		regAll, result(0), exception(1),
		arm, fired(false, "armed with one member pending"),
		result(2), fired(true, "last member done"),
	}})
}

// Registration racing with completion: the waiter never fires before Arm,
// and fires exactly when every member is done.
func TestWaiterAllCompletedConcurrentRegistration(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 30; round++ {
		const n = 100
		fs := newFutures(n)
		perm := rng.Perm(n)
		w := NewWaiter(AllCompleted)
		go func() {
			for k, i := range perm {
				completions[(i+k)%len(completions)].complete(fs[i])
			}
		}()
		already := map[int]bool{}
		for i, f := range fs {
			if a, o := w.Register(f, i); a {
				already[i] = true
				if !f.State().Notified() {
					t.Fatalf("already=true for a future in state %v", f.State())
				}
				if want := outcomeOf(f.State(), f.Failed()); o != want {
					t.Fatalf("already outcome %v, want %v", o, want)
				}
			}
			if w.Wait(0) {
				t.Fatalf("round %d: AllCompleted waiter fired during registration (after %d)", round, i)
			}
		}
		w.Arm()
		if !w.Wait(mustHappen) {
			t.Fatalf("round %d: waiter did not fire", round)
		}
		for i, f := range fs {
			if !f.State().Notified() {
				t.Fatalf("round %d: waiter fired while member %d is %v", round, i, f.State())
			}
		}
		seen := map[int]bool{}
		for _, i := range w.Take() {
			if seen[i] || already[i] {
				t.Fatalf("round %d: index %d reported twice", round, i)
			}
			seen[i] = true
		}
		if len(seen)+len(already) != n {
			t.Fatalf("round %d: %d reported + %d already, want %d", round, len(seen), len(already), n)
		}
	}
}

func TestWaiterTakeOrderAndRearm(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	const n = 50
	fs, w := armedWaiter(t, AsCompleted, n)
	perm := rng.Perm(n)
	var want []int
	for k, i := range perm {
		completions[k%len(completions)].complete(fs[i])
		want = append(want, i)
		if rng.Intn(4) == 0 {
			assertFired(t, w, true, "completed but not taken")
			assertTake(t, w, want...)
			want = nil
			assertFired(t, w, false, "after Take")
		}
	}
	if len(want) > 0 {
		assertTake(t, w, want...)
	}
	assertFired(t, w, false, "all taken")
}

func TestWaiterWaitTimeouts(t *testing.T) {
	f := NewFuture()
	w := NewWaiter(FirstCompleted)
	w.Register(f, 0)
	w.Arm()
	if w.Wait(0) {
		t.Fatal("Wait(0) fired")
	}
	assertWaitsOut(t, w.Wait, 30*time.Millisecond, "FirstCompleted, nothing done")

	for _, timeout := range []time.Duration{-1, mustHappen} {
		f := NewFuture()
		w := NewWaiter(FirstCompleted)
		w.Register(f, 0)
		w.Arm()
		const n = 3
		res := make(chan bool, n)
		for i := 0; i < n; i++ {
			go func() { res <- w.Wait(timeout) }()
		}
		if _, ok := received(res, mustNotYet); ok {
			t.Fatalf("Wait(%v) returned before anything completed", timeout)
		}
		f.Finish(false)
		for i := 0; i < n; i++ {
			if v, ok := received(res, mustHappen); !ok || !v {
				t.Fatalf("Wait(%v) not woken (received=%v value=%v)", timeout, ok, v)
			}
		}
		// The token is kept: later waits see the waiter fired.
		if !w.Wait(-1) || !w.Wait(0) {
			t.Fatal("fired state not kept after blocking waits")
		}
		assertTake(t, w, 0)
		if w.Wait(0) || w.Wait(time.Millisecond) {
			t.Fatal("Take did not re-arm")
		}
	}
}

func TestWaiterClose(t *testing.T) {
	fs := newFutures(3)
	w := NewWaiter(AsCompleted)
	other := NewWaiter(AsCompleted)
	registerAll(t, w, fs)
	other.Register(fs[1], 11)
	w.Arm()
	other.Arm()

	fs[0].Finish(false)
	assertFired(t, w, true, "before Close")
	assertTake(t, w, 0)

	w.Close()
	for i, f := range fs {
		f.mu.Lock()
		for _, r := range f.registrationsLocked() {
			if r.w == w {
				t.Fatalf("future %d still holds the closed waiter", i)
			}
		}
		f.mu.Unlock()
	}
	fs[1].Finish(true)
	fs[2].Cancel()
	fs[2].SetRunningOrNotifyCancel()
	if w.Finished() != 0 {
		t.Fatalf("closed waiter was notified: Finished() = %d", w.Finished())
	}
	if w.Wait(mustNotYet / 5) {
		t.Fatal("closed waiter fired")
	}
	// The other waiter on fs[1] is untouched.
	assertFired(t, other, true, "other waiter")
	assertTake(t, other, 11)

	w.Close() // idempotent
}

// Close removes every registration of the waiter, even when the same future
// is registered several times and shares its list with other waiters.
func TestWaiterCloseSharedFuture(t *testing.T) {
	f := NewFuture()
	ws := make([]*Waiter, 5)
	for i := range ws {
		ws[i] = NewWaiter(AsCompleted)
	}
	// Interleave: w0, w1, w0, w2, w3, w0, w4
	for _, k := range []int{0, 1, 0, 2, 3, 0, 4} {
		ws[k].Register(f, k)
	}
	for _, w := range ws {
		w.Arm()
	}
	ws[0].Close()
	ws[3].Close()
	if n := registrations(f); n != 3 {
		t.Fatalf("%d registrations left, want 3", n)
	}
	f.Finish(false)
	for k, w := range ws {
		got := w.Take()
		switch k {
		case 0, 3:
			if len(got) != 0 {
				t.Fatalf("closed waiter %d notified %v", k, got)
			}
		default:
			if !reflect.DeepEqual(got, []int{k}) {
				t.Fatalf("waiter %d Take = %v, want [%d]", k, got, k)
			}
		}
	}
}

// Close while members are finishing: once Close returns, no more
// notifications arrive.
func TestWaiterCloseConcurrent(t *testing.T) {
	for round := 0; round < 20; round++ {
		const n = 400
		fs, w := armedWaiter(t, AsCompleted, n)
		wait := striped(n, 4, func(i int) { fs[i].Finish(i%3 == 0) })
		time.Sleep(time.Duration(round%5) * 100 * time.Microsecond)
		w.Close()
		after := w.Finished()
		wait()
		if got := w.Finished(); got != after {
			t.Fatalf("round %d: %d notifications after Close returned", round, got-after)
		}
		seen := map[int]bool{}
		for _, i := range w.Take() {
			if seen[i] {
				t.Fatalf("index %d reported twice", i)
			}
			seen[i] = true
		}
		assertNoRegistrations(t, fs)
	}
}

func TestWaiterExternal(t *testing.T) {
	runScripts(t, waiterScript{"all-completed", AllCompleted, 1, []wstep{
		register(0), external(2), arm,
		result(0), fired(false, "external members pending"),
		notify(2, OutcomeResult), fired(false, "one external member pending"),
		notify(1, OutcomeCancelled), fired(true, "all done"),
		took(0, 2, 1),
	}}, waiterScript{"all-completed external only, notified before Arm", AllCompleted, 0, []wstep{
		external(2), notify(0, OutcomeResult), notify(1, OutcomeException),
		fired(false, "before Arm"), arm, fired(true, "at Arm"),
		took(0, 1),
	}}, waiterScript{"first-exception", FirstException, 1, []wstep{
		register(0), external(3), arm,
		notify(1, OutcomeResult), notify(2, OutcomeCancelled), fired(false, "no exception yet"),
		notify(3, OutcomeException), fired(true, "external exception"),
		took(1, 2, 3),
	}}, waiterScript{"first-completed", FirstCompleted, 1, []wstep{
		register(0), external(1), arm, fired(false, "nothing done"),
		notify(1, OutcomeResult), fired(true, "external done"),
		took(1),
	}}, waiterScript{"as-completed mixes", AsCompleted, 2, []wstep{
		regAll, external(2), arm,
		notify(3, OutcomeResult), result(1), took(3, 1),
		notify(2, OutcomeException), exception(0), took(2, 0),
	}})
	t.Run("blocked wait woken by Notify", func(t *testing.T) {
		w := NewWaiter(AllCompleted)
		w.AddExternal(1)
		w.Arm()
		res := make(chan bool, 1)
		go func() { res <- w.Wait(-1) }()
		if _, ok := received(res, mustNotYet); ok {
			t.Fatal("Wait returned early")
		}
		go w.Notify(0, OutcomeResult)
		if v, ok := received(res, mustHappen); !ok || !v {
			t.Fatal("Wait not woken by Notify")
		}
	})
}

// Many goroutines complete futures (and external members) while one
// goroutine consumes the waiter as as_completed does: every index is
// reported exactly once, and only after its future is notified.
func TestWaiterAsCompletedConcurrent(t *testing.T) {
	for _, timeout := range []time.Duration{-1, mustHappen} {
		t.Run(fmt.Sprint(timeout), func(t *testing.T) {
			const n, ext, goroutines = 1000, 100, 8
			fs := newFutures(n)
			w := NewWaiter(AsCompleted)
			registerAll(t, w, fs)
			w.AddExternal(ext)
			w.Arm()

			total := n + ext
			perm := rand.New(rand.NewSource(3)).Perm(total)
			wait := striped(total, goroutines, func(k int) {
				i := perm[k]
				if i >= n {
					w.Notify(i, Outcome(i%3))
					return
				}
				switch i % 3 {
				case 0:
					fs[i].Finish(false)
				case 1:
					fs[i].SetRunningOrNotifyCancel()
					fs[i].Finish(true)
				case 2:
					fs[i].Cancel()
					fs[i].SetRunningOrNotifyCancel()
				}
			})

			seen := make([]int, total)
			got := 0
			for got < total {
				if !w.Wait(timeout) {
					t.Fatalf("Wait timed out with %d/%d reported", got, total)
				}
				ids := w.Take()
				if len(ids) == 0 {
					t.Fatalf("Wait fired but Take returned nothing (%d/%d)", got, total)
				}
				for _, i := range ids {
					if i < 0 || i >= total {
						t.Fatalf("index %d out of range", i)
					}
					if i < n && !fs[i].State().Notified() {
						t.Fatalf("index %d reported in state %v", i, fs[i].State())
					}
					seen[i]++
					got++
				}
			}
			wait()
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("index %d reported %d times", i, c)
				}
			}
			if extra := w.Take(); len(extra) != 0 {
				t.Fatalf("extra reports %v", extra)
			}
			if w.Wait(0) {
				t.Fatal("waiter fired with nothing left")
			}
		})
	}
}

// Concurrent completions with the blocking kinds: the waiter fires once the
// rule is met, never earlier.
func TestWaiterConcurrentKinds(t *testing.T) {
	const n = 300
	t.Run("all-completed", func(t *testing.T) {
		fs, w := armedWaiter(t, AllCompleted, n)
		wait := striped(n, 6, func(i int) { completions[i%3].complete(fs[i]) })
		if !w.Wait(-1) {
			t.Fatal("Wait(-1) returned false")
		}
		for i, f := range fs {
			if !f.State().Notified() {
				t.Fatalf("fired while member %d is %v", i, f.State())
			}
		}
		wait()
		if got := w.Take(); len(got) != n {
			t.Fatalf("Take returned %d indices, want %d", len(got), n)
		}
	})
	t.Run("first-exception", func(t *testing.T) {
		fs, w := armedWaiter(t, FirstException, n)
		const bad = 137
		striped(n, 6, func(i int) {
			if i != bad {
				fs[i].Finish(false)
			}
		})()
		assertFired(t, w, false, "all but one finished with results")
		go fs[bad].Finish(true)
		if !w.Wait(mustHappen) {
			t.Fatal("FIRST_EXCEPTION not fired by the exception")
		}
	})
}

// registrationsLocked lists the waiters registered on f (f.mu held).
func (f *Future) registrationsLocked() []waiterRef {
	var rs []waiterRef
	if f.w0.w != nil {
		rs = append(rs, f.w0)
	}
	return append(rs, f.waiters...)
}

// registrations counts the waiters registered on f.
func registrations(f *Future) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.registrationsLocked())
}

// assertNoRegistrations fails if a future of fs (nil ones: none) still
// holds a registration.
func assertNoRegistrations(t *testing.T, fs []*Future) {
	t.Helper()
	for i, f := range fs {
		if f == nil {
			continue
		}
		if n := registrations(f); n != 0 {
			t.Fatalf("future %d still has %d registrations", i, n)
		}
	}
}

// RegisterAll over a set some of whose members are done already, some
// finish while it registers and one reports through Notify: every member is
// reported exactly once, and an AllCompleted waiter fires only once all are.
func TestRegisterAllReportsEveryMemberOnce(t *testing.T) {
	for round := 0; round < 50; round++ {
		const n = 300
		fs := make([]*Future, n)
		for i := range fs {
			fs[i] = NewFuture()
			if i%3 == 0 {
				fs[i].Finish(i%2 == 0)
			}
		}
		fs[7] = nil // bridged by the caller
		w := NewWaiter(AllCompleted)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := n - 1; i >= 0; i-- {
				if fs[i] != nil && i != 11 {
					fs[i].Finish(false) // done ones answer ErrInvalidState
				}
			}
		}()
		seen := make([]int, n)
		w.RegisterAll(fs, func(i int, o Outcome) {
			if i%3 == 0 && (o == OutcomeException) != (i%2 == 0) {
				t.Errorf("member %d: outcome %v", i, o)
			}
			seen[i]++
		})
		w.AddExternal(1)
		w.Arm()
		wg.Wait()
		if w.Wait(0) {
			t.Fatal("fired with member 11 and the bridged one pending")
		}
		fs[11].Finish(false)
		w.Notify(7, OutcomeResult)
		if !w.Wait(10 * time.Second) {
			t.Fatal("AllCompleted did not fire")
		}
		for _, i := range w.Take() {
			seen[i]++
		}
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("round %d: member %d reported %d times", round, i, c)
			}
		}
		w.Close()
		assertNoRegistrations(t, fs)
	}
}

// A member reported many times (a foreign future that calls its waiters
// again and again, through Notify, or a registered future next to it)
// counts once: an AllCompleted waiter does not fire before the others, and
// takes never hold more entries than members (gf_waiter_take's buffer).
func TestWaiterCountsEachMemberOnce(t *testing.T) {
	for _, kind := range []WaitKind{AsCompleted, FirstCompleted, FirstException, AllCompleted} {
		kind := kind
		t.Run(fmt.Sprint(kind), func(t *testing.T) {
			fs := newFutures(2) // members 0 and 1; 2 and 3 are external
			w := NewWaiter(kind)
			w.RegisterAll(append(fs, nil, nil), func(int, Outcome) { t.Fatal("live future done") })
			w.AddExternal(2)
			w.Arm()
			for i := 0; i < 100; i++ {
				w.Notify(2, OutcomeResult)
			}
			if kind == AllCompleted || kind == FirstException {
				assertFired(t, w, false, "one of four members, notified 100 times")
			}
			fs[0].Finish(false)
			w.Notify(0, OutcomeResult) // again, by hand: ignored too
			w.Notify(3, OutcomeResult)
			if kind == AllCompleted || kind == FirstException {
				assertFired(t, w, false, "three of four members")
			}
			if got := w.TakeAtMost(4); !reflect.DeepEqual(got, []int{2, 0, 3}) {
				t.Fatalf("TakeAtMost(4) = %v, want [2 0 3]", got)
			}
			for i := 0; i < 10; i++ {
				w.Notify(3, OutcomeException)
				w.Notify(2, OutcomeResult)
			}
			assertTake(t, w) // taken members stay counted
			fs[1].Finish(false)
			assertFired(t, w, true, "every member")
			assertTake(t, w, 1)
		})
	}
}

// TakeAtMost never returns more than asked; the rest stays, in order, and
// the waiter stays fired until it is all taken.
func TestWaiterTakeAtMostKeepsTheRest(t *testing.T) {
	w := NewWaiter(AsCompleted)
	w.AddExternal(5)
	w.Arm()
	for _, i := range []int{4, 1, 3, 0, 2} {
		w.Notify(i, OutcomeResult)
	}
	if got := w.TakeAtMost(2); !reflect.DeepEqual(got, []int{4, 1}) {
		t.Fatalf("TakeAtMost(2) = %v", got)
	}
	assertFired(t, w, true, "three left")
	if got := w.TakeAtMost(0); len(got) != 0 {
		t.Fatalf("TakeAtMost(0) = %v", got)
	}
	assertFired(t, w, true, "three left after an empty take")
	if got := w.TakeAtMost(-1); !reflect.DeepEqual(got, []int{3, 0, 2}) {
		t.Fatalf("TakeAtMost(-1) = %v", got)
	}
	assertFired(t, w, false, "all taken")
}

// Concurrent reports of the same members (under -race): each index is
// taken exactly once however many goroutines report it.
func TestWaiterConcurrentRepeatedNotify(t *testing.T) {
	const n = 64
	w := NewWaiter(AllCompleted)
	w.AddExternal(n)
	w.Arm()
	goN(8, func(int) {
		for r := 0; r < 10; r++ {
			for i := 0; i < n; i++ {
				w.Notify(i, OutcomeResult)
			}
		}
	})()
	if !w.Wait(-1) {
		t.Fatal("not fired")
	}
	got := w.TakeAtMost(n)
	seen := map[int]bool{}
	for _, i := range got {
		if seen[i] {
			t.Fatalf("member %d taken twice", i)
		}
		seen[i] = true
	}
	if len(got) != n {
		t.Fatalf("took %d members, want %d", len(got), n)
	}
}
