package main

/*
#include <stdint.h>
#include <stdlib.h>
#include "abi.h"   // gf_event, GF_FLAG_*, GF_SUBMIT_*
*/
import "C"

import (
	"time"
	"unsafe"

	"github.com/gofutures/gofutures/core"
)

func proc(h C.uintptr_t) *core.ProcPool { return handleValue(h).(*core.ProcPool) }

// gf_proc_new returns a dispatcher for at most max worker processes, each
// running at most maxTasks tasks (0: no limit) with prefetch tasks in
// flight. It asks the Python side how a dead worker ended (EvExited) and
// waits at most 10 s for gf_proc_exit_cause before it falls back to waitid.
//
//export gf_proc_new
func gf_proc_new(max, maxTasks, prefetch C.int64_t) C.uintptr_t {
	p := core.NewProcPool(int(max), int(maxTasks), int(prefetch))
	p.AskExitCause(10 * time.Second) // the controller answers (process.py exited)
	return newHandle(p)
}

// gf_proc_free releases the pool; its figures join the process totals.
//
//export gf_proc_free
func gf_proc_free(ph C.uintptr_t) {
	proc(ph).Close()
	freeHandle(ph)
}

// gf_proc_stats_id is the pool's id in the statistics registry.
//
//export gf_proc_stats_id
func gf_proc_stats_id(ph C.uintptr_t) C.int64_t { return C.int64_t(proc(ph).Stats().ID()) }

// gf_proc_submit queues a task for the future fh whose pickled call is
// buf[0:n] (copied). It returns 0, 1 when the caller must start a worker
// process (then gf_proc_add_worker or gf_proc_spawn_failed), -1 after
// shutdown, -2 when the pool is broken (the task was not queued).
//
// timeoutNs > 0 limits the task's run time (core.ProcPool.SubmitTimeout);
// prio orders it among queued tasks (core.ProcPool.SubmitPriority; 0 is
// plain submit's).
//
//export gf_proc_submit
func gf_proc_submit(ph C.uintptr_t, fh C.uintptr_t, buf unsafe.Pointer, n C.int64_t, timeoutNs C.int64_t, prio C.int64_t) C.int {
	payload := C.GoBytes(buf, C.int(n))
	var timeout time.Duration
	if timeoutNs > 0 {
		timeout = time.Duration(timeoutNs)
	}
	return submitResult(proc(ph).SubmitPriority(fut(fh), payload, timeout, int64(prio)))
}

// gf_proc_spawn_failed gives back a worker start (reserved by a submit, an
// EvSpawn or gf_proc_reserve) that the Python side could not make; the pool
// breaks if no worker is left to run its queue.
//
//export gf_proc_spawn_failed
func gf_proc_spawn_failed(ph C.uintptr_t) { proc(ph).SpawnFailed() }

// gf_proc_add_worker hands a started worker's pipe ends (the pool owns and
// closes them from now on) to the dispatcher; it returns the worker's id.
//
//export gf_proc_add_worker
func gf_proc_add_worker(ph C.uintptr_t, pid, taskW, resultR C.int) C.uint64_t {
	return C.uint64_t(proc(ph).AddWorker(int(pid), int(taskW), int(resultR)))
}

// gf_proc_events blocks (GIL released by the caller) up to timeoutNs for
// events and copies up to capacity of them into out; it returns how many.
//
//export gf_proc_events
func gf_proc_events(ph C.uintptr_t, timeoutNs C.int64_t, out *C.gf_event, capacity C.int64_t) C.int64_t {
	ev := proc(ph).Events(nanos(timeoutNs), int(capacity))
	dst := unsafe.Slice(out, int(capacity))
	for i, e := range ev {
		dst[i] = C.gf_event{kind: C.int32_t(e.Kind), n: C.int64_t(e.N), owner: C.uintptr_t(e.Owner),
			worker: C.uint64_t(e.Worker)}
	}
	return C.int64_t(len(ev))
}

// gf_proc_shutdown stops new submissions; cancel != 0 cancels and notifies
// the queued tasks (their owner words come back as EvDeliver).
//
//export gf_proc_shutdown
func gf_proc_shutdown(ph C.uintptr_t, cancel C.int) { proc(ph).Shutdown(cancel != 0) }

// gf_proc_wait_done blocks (GIL released) until the pool is shut down or
// broken with no worker left; 1 when so, 0 on timeout.
//
//export gf_proc_wait_done
func gf_proc_wait_done(ph C.uintptr_t, timeoutNs C.int64_t) C.int {
	if proc(ph).WaitDone(nanos(timeoutNs)) {
		return 1
	}
	return 0
}

// gf_proc_counts reports a snapshot; flags: GF_FLAG_SHUTDOWN, GF_FLAG_BROKEN.
//
//export gf_proc_counts
func gf_proc_counts(ph C.uintptr_t, queued, inflight, workers, completed, flags *C.int64_t) {
	c := proc(ph).Counts()
	*queued, *inflight, *workers = C.int64_t(c.Queued), C.int64_t(c.InFlight), C.int64_t(c.Workers)
	*completed = C.int64_t(c.Completed)
	*flags = C.int64_t(poolFlags(c.Shutdown, c.Broken))
}

// gf_proc_break breaks the pool (a result that could not be decoded, or
// Ctrl-C: process.py's _Controller.interrupt): every queued and in-flight
// future fails and EvBroken tells the controller to terminate the workers.
//
//export gf_proc_break
func gf_proc_break(ph C.uintptr_t) { proc(ph).Break() }

// gf_proc_reserve reserves up to n worker starts now and returns how many
// the caller may make; the caller then calls gf_proc_add_worker or
// gf_proc_spawn_failed for each one.
//
//export gf_proc_reserve
func gf_proc_reserve(ph C.uintptr_t, n C.int64_t) C.int64_t {
	return C.int64_t(proc(ph).Reserve(int(n)))
}

// gf_proc_cause copies why the pool broke into buf (room for n bytes) and
// returns the full length (0: nothing known).
//
//export gf_proc_cause
func gf_proc_cause(ph C.uintptr_t, buf unsafe.Pointer, n C.int64_t) C.int64_t {
	c := proc(ph).Cause()
	copy(unsafe.Slice((*byte)(buf), int(n)), c)
	return C.int64_t(len(c))
}

// gf_proc_flags reports GF_FLAG_SHUTDOWN and GF_FLAG_BROKEN.
//
//export gf_proc_flags
func gf_proc_flags(ph C.uintptr_t) C.int {
	return poolFlags(proc(ph).Closed())
}

// gf_proc_exit_cause answers core.EvExited: buf[0:n] is the broken pool's
// cause text for worker pid (copied; n 0: no cause).
//
//export gf_proc_exit_cause
func gf_proc_exit_cause(ph C.uintptr_t, pid C.int64_t, buf unsafe.Pointer, n C.int64_t) {
	proc(ph).ExitCause(int(pid), string(C.GoBytes(buf, C.int(n))))
}

// gf_proc_spawn_refused gives back a reserved worker start the controller
// declined; buf[0:n] (copied) is the futures' message if the pool breaks.
//
//export gf_proc_spawn_refused
func gf_proc_spawn_refused(ph C.uintptr_t, buf unsafe.Pointer, n C.int64_t) {
	proc(ph).SpawnRefused(string(C.GoBytes(buf, C.int(n))))
}
