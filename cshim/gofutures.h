/* Shared declarations of the C shim: the extension module that puts the Go
 * core (libgofutures.a, declared in the generated libgofutures.h) behind
 * CPython objects.
 *
 * Ownership rules used throughout:
 *  - Go objects are reached only through cgo handles (uintptr_t); the C
 *    object that received a handle frees it in its dealloc.
 *  - Python objects are owned by C objects only (never by Go), so that the
 *    cycle collector sees them through tp_traverse.
 *  - Every gf_* call into Go that may block is made with the GIL released
 *    (gf_block); every other gf_* call is short and made with the GIL held.
 */
#ifndef GOFUTURES_H
#define GOFUTURES_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include "libgofutures.h"
#include "abi.h"   /* pybind/abi.h: constants shared with Go, defined once */

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *o) { Py_INCREF(o); return o; }
static inline PyObject *Py_XNewRef(PyObject *o) { Py_XINCREF(o); return o; }
#endif

/* States, outcomes, wait kinds, events, flags and return codes shared with
 * Go are in abi.h. */
/* Where a process future's result is (FutureObject.decode); C only. */
enum { DEC_IN_GO, DEC_BUSY, DEC_DONE };

typedef struct {
    PyObject_HEAD
    uintptr_t h;            /* core.Future handle, owned */
    PyObject *result;       /* set when FINISHED without exception */
    PyObject *exception;    /* set when FINISHED with exception */
    PyObject *callbacks;    /* list of done-callbacks, or NULL */
    PyObject *condition;    /* threading.Condition, made when _condition is read */
    PyObject *waiters;      /* list of stdlib-protocol waiters, made when _waiters is read */
    PyObject *dict;
    PyObject *weakreflist;
    /* The call a thread pool runs for this future; cleared once run. */
    PyObject *fn, *args, *kwargs;
    /* ThreadPoolExecutor(context="copy"): the contextvars.Context the call
     * runs in (a copy taken by submit), owned and cleared with fn. */
    PyObject *ctx;
    /* Process pools (remote = 1): Go completes the future without the GIL.
     *
     * The result stays pickled in Go until a Python thread needs it; decode
     * says where it is: DEC_IN_GO (bytes in Go, or in raw after a failed
     * attempt), DEC_BUSY (the thread `decoder` is unpickling raw; others
     * wait on the condition), DEC_DONE (result/exception hold it). pool is
     * the ProcPool that made the future (to break it if the bytes cannot be
     * decoded), kept until decoded.
     *
     * armed: the C side has asked Go to hear of the completion (the first
     * add_done_callback, _condition or _waiters): unless Go had finished
     * already, Go then holds one reference to this object (its owner word)
     * and gives it back with an EvDeliver to the pool's service thread when
     * it is done with the task. seen is the state last published to the
     * stdlib's protocol (_state, _waiters, _condition): it changes only
     * under the condition, together with the waiters' notification, so a
     * reader holding the condition never sees a state its waiters were not
     * told of (future_protocol.c: gf_future_publish). */
    int remote;
    int armed;
    int seen;
    int decode;
    unsigned long decoder;
    PyObject *raw;
    PyObject *pool;
    /* GF_ST_FINISHED or GF_ST_CANCELLED_AND_NOTIFIED once seen: those states only
     * change through the _state setter (gf_future_force), so a done future
     * answers state questions without a call into Go. 0: ask Go. */
    int final;
} FutureObject;

extern PyTypeObject GfFutureBase_Type;
/* gofutures.Future: class Future(FutureBase, concurrent.futures.Future). */
extern PyTypeObject *GfFuture_Type;
#define GfFuture_Check(o) PyObject_TypeCheck((o), &GfFutureBase_Type)

/* Objects of concurrent.futures, looked up once at module init. */
extern PyObject *gf_CancelledError, *gf_TimeoutError, *gf_InvalidStateError;
extern PyObject *gf_BrokenThreadPool, *gf_LOGGER, *gf_DoneAndNotDone;
extern PyObject *gf_state_str[5];   /* 'PENDING', ... (the stdlib's own objects) */
extern PyObject *gf_FIRST_COMPLETED, *gf_FIRST_EXCEPTION, *gf_ALL_COMPLETED;
extern PyObject *gf_threading_Condition;

/* block.c: interruptible blocking, parking, timeouts */
int gf_parse_timeout(PyObject *timeout, int64_t *ns);
int64_t gf_now_ns(void);
typedef int (*gf_wait_fn)(uintptr_t h, int64_t timeout_ns);
int gf_block(gf_wait_fn fn, uintptr_t h, int64_t timeout_ns);
/* Parking outside Go (core/park.go): a token is the address of a sem_t. */
#include <semaphore.h>
typedef int (*gf_token_fn)(uintptr_t h, uintptr_t token);
typedef void (*gf_untoken_fn)(uintptr_t h, uintptr_t token);
int gf_block_token(uintptr_t h, gf_token_fn add, gf_untoken_fn remove, int64_t timeout_ns);
int gf_sem_wait(sem_t *sem, int64_t ns);
void gf_block_init(void);

/* future.c, future_state.c, future_decode.c (future_internal.h) */
FutureObject *gf_future_alloc(void);
int gf_future_finish(FutureObject *f, PyObject *result, PyObject *exc);
int gf_future_cancel(FutureObject *f);
int gf_future_set_running(FutureObject *f);
int gf_future_materialize(FutureObject *f);
void gf_future_deliver(FutureObject *f);
/* future_protocol.c */
void gf_log_current_exception(const char *fmt, PyObject *arg);
/* A threading.Condition's acquire(), and notify_all() (when asked) then
 * release() keeping an exception that is set. */
int gf_cond_acquire(PyObject *cond);
void gf_cond_release(PyObject *cond, int notify);
int gf_future_failed(FutureObject *f);
/* Sets the state directly (the stdlib's private _state), in Go and in the
 * cache above. */
void gf_future_force(FutureObject *f, int state, int failed);

/* wait.c */
extern PyTypeObject GfAsCompleted_Type, GfBridge_Type;
PyObject *gf_wait(PyObject *mod, PyObject *args, PyObject *kwargs);
PyObject *gf_as_completed(PyObject *mod, PyObject *args, PyObject *kwargs);

/* threadpool.c */
extern PyTypeObject GfThreadPool_Type;

/* procpool.c */
extern PyTypeObject GfProcPool_Type;
PyObject *gf_procpool_decode(PyObject *raw, PyObject *pool, FutureObject *f);
extern int gf_interpreter_shutdown;

/* gate.c: backpressure (max_pending), one per pool that has it. */
typedef struct {
    uintptr_t h;            /* core.Gate handle, owned; 0: no gate */
    int64_t timeout_ns;     /* pending_timeout (GF_NO_TIMEOUT: none) */
    Py_ssize_t max;
    PyObject *timeout;      /* pending_timeout as given, for the message */
} GfGate;
PyObject *gf_gate_setup(GfGate *g, PyObject *args);
/* Takes a slot (0), or fails with an exception set (-1). */
int gf_gate_enter(GfGate *g);
/* The task was queued: its future gives the slot back when done. */
void gf_gate_attach(GfGate *g, uintptr_t fh);
/* The task was not queued: the slot goes back now. */
void gf_gate_leave(GfGate *g);
void gf_gate_clear(GfGate *g);

/* mapiter.c */
extern PyTypeObject GfMapIter_Type;
PyObject *gf_map_submit(PyObject *mod, PyObject *const *args, Py_ssize_t nargs);

/* vectorargs.c: a vectorcall's arguments as a tuple and a dict.
 * gf_tuple_from: a new tuple of items[0..n). gf_kwargs_dict: *out is a new
 * dict of the keyword arguments (the values after args[nargs]), or NULL
 * when there are none; -1 with an exception set on error. */
PyObject *gf_tuple_from(PyObject *const *items, Py_ssize_t n);
int gf_kwargs_dict(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, PyObject **out);
/* submit_with_priority's priority (args[0]), an int64; -1 with an exception. */
int gf_priority_arg(PyObject *const *args, Py_ssize_t nargs, int64_t *prio);

/* coremethod.c: executor methods on the class that forward to self._core. */
extern PyTypeObject GfCoreMethod_Type;
int gf_coremethod_init(void);

#include "fork.h"

#endif
