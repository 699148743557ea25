package main

/*
#include <stdint.h>
#include <stdlib.h>
*/
import "C"

import (
	"unsafe"

	"github.com/gofutures/gofutures/core"
)

func pool(h C.uintptr_t) *core.ThreadPool { return handleValue(h).(*core.ThreadPool) }

//export gf_pool_new
func gf_pool_new(max C.int64_t) C.uintptr_t {
	return newHandle(core.NewThreadPool(int(max)))
}

// gf_pool_free releases the pool; its figures join the process totals.
//
//export gf_pool_free
func gf_pool_free(ph C.uintptr_t) {
	pool(ph).Close()
	freeHandle(ph)
}

// gf_pool_submit queues a task word (the C side's owned reference) whose
// future is fh. It returns 0, 1 when the caller must start a worker thread,
// -1 after shutdown, -2 when broken (the task was not queued).
//
//export gf_pool_submit
func gf_pool_submit(ph C.uintptr_t, task C.uintptr_t, fh C.uintptr_t) C.int {
	return submitResult(pool(ph).Submit(core.Task(task), fut(fh)))
}

// submitResult is a pool submit's outcome as the C side reads it: 1 when
// the caller must start a worker, 0, -1 after shutdown, -2 when broken.
func submitResult(spawn bool, err error) C.int {
	switch err {
	case core.ErrShutdown:
		return -1
	case core.ErrBroken, core.ErrProcBroken:
		return -2
	}
	if spawn {
		return 1
	}
	return 0
}

// gf_pool_submit_prio is gf_pool_submit for a task of priority prio (lower
// runs first among queued tasks; gf_pool_submit's tasks have priority 0).
//
//export gf_pool_submit_prio
func gf_pool_submit_prio(ph C.uintptr_t, task C.uintptr_t, fh C.uintptr_t, prio C.int64_t) C.int {
	return submitResult(pool(ph).SubmitPriority(core.Task(task), fut(fh), int64(prio)))
}

//export gf_pool_spawn_failed
func gf_pool_spawn_failed(ph C.uintptr_t) { pool(ph).SpawnFailed() }

//export gf_pool_worker_free
func gf_pool_worker_free(wh C.uintptr_t) { freeHandle(wh) }

//export gf_pool_worker_exited
func gf_pool_worker_exited(ph C.uintptr_t) { pool(ph).WorkerExited() }

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

// gf_pool_shutdown stops the pool; with cancel it returns the queued tasks
// (malloc'd; *n of them) for the caller to cancel and release.
//
//export gf_pool_shutdown
func gf_pool_shutdown(ph C.uintptr_t, cancel C.int, n *C.int64_t) *C.uintptr_t {
	return tasksToC(pool(ph).Shutdown(cancel != 0), n)
}

//export gf_pool_exit
func gf_pool_exit(ph C.uintptr_t) { pool(ph).Exit() }

// gf_pool_break marks the pool broken and returns its queued tasks.
//
//export gf_pool_break
func gf_pool_break(ph C.uintptr_t, n *C.int64_t) *C.uintptr_t {
	return tasksToC(pool(ph).Break(), n)
}

// gf_pool_counts reports a snapshot; flags: 1 shut down, 2 broken.
//
//export gf_pool_counts
func gf_pool_counts(ph C.uintptr_t, queued, workers, idle, flags *C.int64_t) {
	c := pool(ph).Counts()
	*queued, *workers, *idle = C.int64_t(c.Queued), C.int64_t(c.Workers), C.int64_t(c.Idle)
	*flags = 0
	if c.Shutdown {
		*flags |= 1
	}
	if c.Broken {
		*flags |= 2
	}
}
