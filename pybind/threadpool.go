package main

/*
#include <stdint.h>
#include <stdlib.h>
#include "abi.h"   // GF_FLAG_*, GF_SUBMIT_*, GF_NEXT_*
*/
import "C"

import (
	"unsafe"

	"github.com/gofutures/gofutures/core"
)

func pool(h C.uintptr_t) *core.ThreadPool { return handleValue(h).(*core.ThreadPool) }

//export gf_tpool_new
func gf_tpool_new(max C.int64_t) C.uintptr_t {
	return newHandle(core.NewThreadPool(int(max)))
}

// gf_tpool_free releases the pool; its figures join the process totals.
//
//export gf_tpool_free
func gf_tpool_free(ph C.uintptr_t) {
	pool(ph).Close()
	freeHandle(ph)
}

// gf_tpool_submit queues a task word (the C side's owned reference) whose
// future is fh. It returns a GF_SUBMIT_* code (abi.h).
//
//export gf_tpool_submit
func gf_tpool_submit(ph C.uintptr_t, task C.uintptr_t, fh C.uintptr_t) C.int {
	return submitResult(pool(ph).Submit(core.Task(task), fut(fh)))
}

// submitResult is a pool submit's outcome as the C side reads it, a
// GF_SUBMIT_* code, for both pools.
func submitResult(spawn bool, err error) C.int {
	switch err {
	case core.ErrShutdown:
		return C.GF_SUBMIT_SHUTDOWN
	case core.ErrBroken, core.ErrProcBroken:
		return C.GF_SUBMIT_BROKEN
	}
	if spawn {
		return C.GF_SUBMIT_SPAWN
	}
	return C.GF_SUBMIT_OK
}

// gf_tpool_submit_prio is gf_tpool_submit for a task of priority prio (lower
// runs first among queued tasks; gf_tpool_submit's tasks have priority 0).
//
//export gf_tpool_submit_prio
func gf_tpool_submit_prio(ph C.uintptr_t, task C.uintptr_t, fh C.uintptr_t, prio C.int64_t) C.int {
	return submitResult(pool(ph).SubmitPriority(core.Task(task), fut(fh), int64(prio)))
}

//export gf_tpool_spawn_failed
func gf_tpool_spawn_failed(ph C.uintptr_t) { pool(ph).SpawnFailed() }

//export gf_tpool_worker_free
func gf_tpool_worker_free(wh C.uintptr_t) { freeHandle(wh) }

//export gf_tpool_worker_exited
func gf_tpool_worker_exited(ph C.uintptr_t) { pool(ph).WorkerExited() }

// tasksToC hands a task list to C in a malloc'd array the caller frees.
func tasksToC(ts []core.Task, n *C.int64_t) *C.uintptr_t {
	*n = C.int64_t(len(ts))
	if len(ts) == 0 {
		return nil
	}
	p := (*C.uintptr_t)(C.malloc(C.size_t(len(ts)) * C.size_t(unsafe.Sizeof(C.uintptr_t(0)))))
	dst := unsafe.Slice(p, len(ts))
	for i, t := range ts {
		dst[i] = C.uintptr_t(t)
	}
	return p
}

// gf_tpool_shutdown stops the pool; with cancel it returns the queued tasks
// (malloc'd; *n of them) for the caller to cancel and release.
//
//export gf_tpool_shutdown
func gf_tpool_shutdown(ph C.uintptr_t, cancel C.int, n *C.int64_t) *C.uintptr_t {
	return tasksToC(pool(ph).Shutdown(cancel != 0), n)
}

//export gf_tpool_exit
func gf_tpool_exit(ph C.uintptr_t) { pool(ph).Exit() }

// gf_tpool_break marks the pool broken and returns its queued tasks.
//
//export gf_tpool_break
func gf_tpool_break(ph C.uintptr_t, n *C.int64_t) *C.uintptr_t {
	return tasksToC(pool(ph).Break(), n)
}

// gf_tpool_counts reports a snapshot; flags: GF_FLAG_SHUTDOWN, GF_FLAG_BROKEN.
//
//export gf_tpool_counts
func gf_tpool_counts(ph C.uintptr_t, queued, workers, idle, flags *C.int64_t) {
	c := pool(ph).Counts()
	*queued, *workers, *idle = C.int64_t(c.Queued), C.int64_t(c.Workers), C.int64_t(c.Idle)
	*flags = C.int64_t(poolFlags(c.Shutdown, c.Broken))
}

// poolFlags packs a pool's state as GF_FLAG_* bits, for both pools.
func poolFlags(shutdown, broken bool) C.int {
	return flagIf(shutdown, C.GF_FLAG_SHUTDOWN) | flagIf(broken, C.GF_FLAG_BROKEN)
}

// flagIf is bit if cond holds, else 0: for packing bools as C flag bits.
func flagIf(cond bool, bit C.int) C.int {
	if cond {
		return bit
	}
	return 0
}
