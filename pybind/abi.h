/* The C ABI between pybind (Go) and the C shim, defined once: the enums,
 * bit sets and return codes that cross it. pybind's cgo preambles include
 * this header and so does cshim/gofutures.h; pybind/abi_check.go makes the
 * Go build fail if a value here and its core/ counterpart ever differ.
 *
 * Names say which side a function is on. Go's exports are
 * gf_<object>_<verb> with the short name of the core object they reach:
 * gf_fut_* (core.Future), gf_tpool_* (core.ThreadPool), gf_proc_*
 * (core.ProcPool), gf_waiter_*, gf_gate_*. The shim's own C functions use
 * the C object's long name: gf_future_* (FutureObject), gf_procpool_*,
 * gf_mapiter_*, ... (cshim/gofutures.h). So gf_fut_cancel is Go's state
 * change and gf_future_cancel the C method around it. */
#ifndef GOFUTURES_ABI_H
#define GOFUTURES_ABI_H

#include <stdint.h>

/* A future's state (core.State): gf_fut_state, gf_fut_force. */
enum {
    GF_ST_PENDING,
    GF_ST_RUNNING,
    GF_ST_CANCELLED,
    GF_ST_CANCELLED_AND_NOTIFIED,
    GF_ST_FINISHED
};

/* How a future completed, as a waiter is told (core.Outcome):
 * gf_waiter_take. */
enum { GF_OUT_RESULT, GF_OUT_EXCEPTION, GF_OUT_CANCELLED };

/* What a waiter waits for (core.WaitKind): gf_waiter_new. */
enum { GF_WK_AS_COMPLETED, GF_WK_FIRST_COMPLETED, GF_WK_FIRST_EXCEPTION, GF_WK_ALL_COMPLETED };

/* How a thread worker's last task ended, for the statistics
 * (stats.Outcome): gf_tpool_next_or_park's prev. */
enum { GF_TASK_NONE, GF_TASK_OK, GF_TASK_FAILED, GF_TASK_CANCELLED };

/* gf_tpool_next_or_park's answer. */
enum {
    GF_NEXT_EXIT = -1,     /* shut down or broken and drained: the worker exits */
    GF_NEXT_PARKED = 0,    /* nothing queued: wait on the token, then ask again */
    GF_NEXT_TASK = 1,      /* *task is the next one to run */
    GF_NEXT_CANCELLED = 2  /* *task was cancelled in the queue (counted): release it */
};

/* What the process pool's service thread is told to do (core.Ev*):
 * gf_proc_events fills an array of these (core.Event). */
enum { GF_EV_DELIVER = 1, GF_EV_SPAWN, GF_EV_REAP, GF_EV_BROKEN, GF_EV_DONE, GF_EV_EXITED };
typedef struct {
    int32_t kind;      /* GF_EV_* */
    int64_t n;         /* GF_EV_SPAWN: how many workers to start */
    uintptr_t owner;   /* GF_EV_DELIVER: the FutureObject whose reference Go gives back */
    uint64_t worker;   /* GF_EV_REAP, GF_EV_EXITED: the worker's pid */
} gf_event;

/* The first byte of a process future's result payload (core.Tag*): what the
 * rest is. gf_fut_take_payload. */
#define GF_TAG_RESULT 'R'      /* a pickled return value */
#define GF_TAG_EXCEPTION 'E'   /* a pickled exception */
#define GF_TAG_BROKEN 'B'      /* the pool broke: the cause text */
#define GF_TAG_TIMEOUT 'T'     /* the task ran past its timeout: the message */
#define GF_TAG_BROKEN_MSG 'M'  /* the pool broke with its own message: message, NUL, cause */

/* A pool's flags: gf_tpool_counts, gf_proc_counts, gf_proc_flags. */
#define GF_FLAG_SHUTDOWN 1
#define GF_FLAG_BROKEN 2

/* A pool submit's outcome: gf_tpool_submit*, gf_proc_submit*. */
enum {
    GF_SUBMIT_BROKEN = -2,    /* not queued: the pool is broken */
    GF_SUBMIT_SHUTDOWN = -1,  /* not queued: the pool is shut down */
    GF_SUBMIT_OK = 0,
    GF_SUBMIT_SPAWN = 1       /* queued; the caller starts a worker thread */
};

/* gf_fut_cancel's answer. */
enum {
    GF_CANCEL_REFUSED = 0,  /* running or finished: not cancelled */
    GF_CANCEL_ALREADY = 1,  /* it was cancelled before */
    GF_CANCEL_NOW = 2       /* cancelled by this call: the caller runs the callbacks */
};

/* How long a blocking export may wait (gf_waiter_wait, gf_gate_acquire,
 * gf_proc_events, gf_proc_wait_done): int64_t nanoseconds; GF_NO_TIMEOUT,
 * or any negative value, waits for ever (pybind's nanos()). A task's run
 * time limit (gf_proc_submit's timeoutNs) is the other way: 0 or less is
 * no limit. */
#define GF_NO_TIMEOUT ((int64_t)-1)

/* gf_fut_add_listener's result bits. */
#define GF_LISTEN_DONE 1    /* the future is done (run a late callback now) */
#define GF_LISTEN_STORED 2  /* the owner word was stored: Go holds a reference */

#endif
