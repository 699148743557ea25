package main

/*
#include <semaphore.h>
#include <stdint.h>

// A token is the address of a sem_t of the waiting C thread (cshim).
static void gf_token_post(uintptr_t t) { sem_post((sem_t *)t); }
*/
import "C"

import (
	"github.com/gofutures/gofutures/core"
	"github.com/gofutures/gofutures/core/stats"
)

// Threads of the C shim park on semaphores of their own (core/park.go):
// result() while a future is pending, and idle thread-pool workers.
func init() { core.SetWaker(func(t uintptr) { C.gf_token_post(C.uintptr_t(t)) }) }

// gf_fut_add_token registers the semaphore tok to post when the future is
// done: 1, or 0 (nothing registered) when it is done already. The caller
// keeps tok valid until gf_fut_remove_token returns.
//
//export gf_fut_add_token
func gf_fut_add_token(h, tok C.uintptr_t) C.int {
	if fut(h).AddToken(uintptr(tok)) {
		return 1
	}
	return 0
}

// gf_fut_remove_token unregisters tok (a timed-out or interrupted wait);
// once it returns Go will not post tok (it may have already), so the
// caller may free it.
//
//export gf_fut_remove_token
func gf_fut_remove_token(h, tok C.uintptr_t) { fut(h).RemoveToken(uintptr(tok)) }

// gf_tpool_worker_new_token is gf_tpool_worker_new for a worker thread that
// parks on its semaphore tok between calls to gf_tpool_next_or_park.
//
//export gf_tpool_worker_new_token
func gf_tpool_worker_new_token(ph, tok C.uintptr_t) C.uintptr_t {
	return newHandle(pool(ph).NewTokenWorker(uintptr(tok)))
}

// gf_tpool_next_or_park stores the next task in *task and returns
// GF_NEXT_TASK (GF_NEXT_CANCELLED for a task cancelled while queued,
// already counted: release it, report nothing), or GF_NEXT_EXIT (the worker
// must exit), or GF_NEXT_PARKED: the worker is idle; it waits on its
// semaphore (GIL released) and calls again. prev (GF_TASK_*) is how the
// worker's previous task ended, for the pool's statistics.
//
//export gf_tpool_next_or_park
func gf_tpool_next_or_park(ph, wh C.uintptr_t, prev C.int, task *C.uintptr_t) C.int {
	t, st := pool(ph).NextOrPark(handleValue(wh).(*core.Worker), stats.Outcome(prev))
	*task = C.uintptr_t(t)
	return C.int(st)
}
