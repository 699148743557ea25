package core

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofutures/gofutures/core/stats"
)

// testTokens stands in for the binding's C semaphores: a token is the index
// of a buffered channel.
var (
	tokMu    sync.Mutex
	tokChans = map[uintptr]chan struct{}{}
	tokNext  uintptr
	tokOnce  sync.Once
)

func newToken() (uintptr, chan struct{}) {
	tokOnce.Do(func() {
		SetWaker(func(t uintptr) {
			tokMu.Lock()
			c := tokChans[t]
			tokMu.Unlock()
			c <- struct{}{} // a post never blocks: at most one is pending
		})
	})
	tokMu.Lock()
	defer tokMu.Unlock()
	tokNext++
	c := make(chan struct{}, 1)
	tokChans[tokNext] = c
	return tokNext, c
}

func TestFutureTokensArePostedOnceWhenDone(t *testing.T) {
	f := NewFuture()
	a, ca := newToken()
	b, cb := newToken()
	if !f.AddToken(a) || !f.AddToken(b) {
		t.Fatal("a pending future refused a token")
	}
	f.RemoveToken(b) // b's thread gave up waiting
	f.Finish(false)
	select {
	case <-ca:
	case <-time.After(5 * time.Second):
		t.Fatal("a registered token was not posted")
	}
	select {
	case <-cb:
		t.Fatal("a removed token was posted")
	default:
	}
	f.RemoveToken(a) // after the post: a no-op
	if f.AddToken(a) {
		t.Fatal("a done future took a token")
	}
}

// Workers that park on tokens run every task once, and all leave at
// shutdown; concurrent submitters and -race check the bookkeeping.
func TestTokenWorkersRunEverythingAndLeave(t *testing.T) {
	p := NewThreadPool(4)
	var ran atomic.Int64
	var running sync.WaitGroup
	startWorker := func() {
		running.Add(1)
		go func() {
			defer running.Done()
			tok, c := newToken()
			w := p.NewTokenWorker(tok)
			for {
				var task Task
				var st int
				for {
					task, st = p.NextOrPark(w, stats.OutcomeNone)
					if st != 0 {
						break
					}
					<-c
				}
				if st < 0 {
					return
				}
				ran.Add(int64(task))
			}
		}()
	}
	goN(3, func(int) { // submitters
		for i := 0; i < 2000; i++ {
			if spawn, err := p.Submit(Task(1), nil); err != nil {
				t.Error(err)
				return
			} else if spawn {
				startWorker()
			}
			if i%100 == 0 {
				time.Sleep(time.Millisecond) // let workers park now and then
			}
		}
	})()
	p.Shutdown(false)
	running.Wait()
	if got := ran.Load(); got != 6000 {
		t.Fatalf("ran %d of 6000 tasks", got)
	}
	if c := p.Counts(); c.Workers != 0 || c.Idle != 0 || c.Queued != 0 {
		t.Fatalf("after shutdown: %+v", c)
	}
}
