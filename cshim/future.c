/* gofutures.Future: a concurrent.futures.Future whose state machine lives
 * in Go (core.Future, reached through the handle f->h).
 *
 * The C object owns the Python values (result, exception, callbacks) and
 * shows them to the cycle collector. Every transition is made in Go while
 * this thread holds the GIL, and the values are stored before the GIL is
 * released, so a thread woken by Go (which must take the GIL to read them)
 * always sees them.
 *
 * The stdlib's private protocol is honoured for code that drives futures
 * the way concurrent.futures._base does (its own wait()/as_completed(),
 * asyncio): _state, _condition, _waiters, _result, _exception,
 * _done_callbacks and _invoke_callbacks exist. The condition and the waiter
 * list are made only when first read; once they exist, transitions take the
 * condition and tell the waiters, exactly as the stdlib does.
 *
 * Process futures are completed by Go without the GIL, so the protocol
 * cannot see Go's state directly: what it sees (seen) is published under
 * the condition by whichever Python thread first notices the change (the
 * pool's service thread, woken by Go, or a reader of _state), together
 * with the waiters' notification. Their result bytes are decoded once, by
 * the first thread that needs them, while the others wait (decode).
 */
#include "gofutures.h"
#include "structmember.h"
#include "fork.h"

static const char *const state_desc[5] = {
    "pending", "running", "cancelled", "cancelled", "finished"};

/* ---- allocation ------------------------------------------------------- */

static PyObject *future_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    if (gf_forked) {
        /* No Go in a forked child: gofutures.Future() is the stdlib's
         * Future there (fork.h); a subclass cannot be. */
        if (type == GfFuture_Type) {
            PyObject *cf = PyTuple_GET_ITEM(type->tp_bases, 1);
            return PyObject_CallNoArgs(cf);
        }
        gf_fork_guard();
        return NULL;
    }
    FutureObject *f = (FutureObject *)type->tp_alloc(type, 0);
    if (!f)
        return NULL;
    f->h = gf_fut_new();
    return (PyObject *)f;
}

FutureObject *gf_future_alloc(void)
{
    return (FutureObject *)future_new(GfFuture_Type, NULL, NULL);
}

static int future_init(PyObject *self, PyObject *args, PyObject *kw)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kw && PyDict_GET_SIZE(kw) != 0)) {
        PyErr_Format(PyExc_TypeError,
                     "Future.__init__() takes 1 positional argument but %zd were given",
                     PyTuple_GET_SIZE(args) + 1);
        return -1;
    }
    return 0;
}

static int future_traverse(FutureObject *f, visitproc visit, void *arg)
{
    Py_VISIT(f->raw);
    Py_VISIT(f->result);
    Py_VISIT(f->exception);
    Py_VISIT(f->callbacks);
    Py_VISIT(f->condition);
    Py_VISIT(f->waiters);
    Py_VISIT(f->dict);
    Py_VISIT(f->fn);
    Py_VISIT(f->args);
    Py_VISIT(f->kwargs);
    Py_VISIT(f->ctx);
    Py_VISIT(f->pool);
    return 0;
}

static int future_clear(FutureObject *f)
{
    Py_CLEAR(f->raw);
    Py_CLEAR(f->result);
    Py_CLEAR(f->exception);
    Py_CLEAR(f->callbacks);
    Py_CLEAR(f->condition);
    Py_CLEAR(f->waiters);
    Py_CLEAR(f->dict);
    Py_CLEAR(f->fn);
    Py_CLEAR(f->args);
    Py_CLEAR(f->kwargs);
    Py_CLEAR(f->ctx);
    Py_CLEAR(f->pool);
    return 0;
}

static void future_dealloc(FutureObject *f)
{
    PyObject_GC_UnTrack(f);
    if (f->weakreflist)
        PyObject_ClearWeakRefs((PyObject *)f);
    future_clear(f);
    if (f->h && !gf_forked) {
        gf_fut_free(f->h);   /* releases the Go future's handle */
        f->h = 0;
    }
    Py_TYPE(f)->tp_free((PyObject *)f);
}

/* ---- helpers ---------------------------------------------------------- */

static inline int state_of(FutureObject *f)
{
    if (f->final)
        return f->final;
    int s = gf_fut_state(f->h);
    if (s == ST_FINISHED || s == ST_CANCELLED_AND_NOTIFIED)
        f->final = s;   /* absorbing, but for gf_future_force */
    return s;
}

void gf_future_force(FutureObject *f, int state, int failed)
{
    gf_fut_force(f->h, state, failed);
    f->final = (state == ST_FINISHED || state == ST_CANCELLED_AND_NOTIFIED) ? state : 0;
    f->seen = state;   /* as the stdlib's setter: nobody is told */
}

void gf_log_current_exception(const char *fmt, PyObject *arg)
{
    PyObject *t, *v, *tb, *ot, *ov, *otb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb && v)
        PyException_SetTraceback(v, tb);
    /* LOGGER.exception() reads sys.exc_info(): make the error the handled
     * exception for the duration of the call. */
    PyErr_GetExcInfo(&ot, &ov, &otb);
    PyErr_SetExcInfo(t, v, tb);
    PyObject *r = PyObject_CallMethod(gf_LOGGER, "exception", "sO", fmt, arg);
    if (r)
        Py_DECREF(r);
    else
        PyErr_Clear();
    PyErr_SetExcInfo(ot, ov, otb);
}

/* Takes f->condition when the stdlib protocol is in use. */
static int cond_enter(FutureObject *f)
{
    if (!f->condition)
        return 0;
    PyObject *r = PyObject_CallMethod(f->condition, "acquire", NULL);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 1;
}

/* Releases what cond_enter took, after notify_all() when asked. Keeps an
 * exception that is already set. */
static void cond_exit(FutureObject *f, int taken, int notify)
{
    if (taken <= 0)
        return;
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyObject *r;
    if (notify) {
        r = PyObject_CallMethod(f->condition, "notify_all", NULL);
        if (r) Py_DECREF(r); else PyErr_Clear();
    }
    r = PyObject_CallMethod(f->condition, "release", NULL);
    if (r) Py_DECREF(r); else PyErr_Clear();
    PyErr_Restore(t, v, tb);
}

/* Tells the stdlib-protocol waiters (in _waiters) about a completion. */
static int notify_py_waiters(FutureObject *f, const char *method)
{
    if (!f->waiters || PyList_GET_SIZE(f->waiters) == 0)
        return 0;
    PyObject *snapshot = PyList_GetSlice(f->waiters, 0, PY_SSIZE_T_MAX);
    if (!snapshot)
        return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(snapshot); i++) {
        PyObject *r = PyObject_CallMethod(PyList_GET_ITEM(snapshot, i), method, "O", (PyObject *)f);
        if (!r) {
            Py_DECREF(snapshot);
            return -1;
        }
        Py_DECREF(r);
    }
    Py_DECREF(snapshot);
    return 0;
}

static PyObject *get_condition(FutureObject *f, void *c);

/* Process futures: asks Go, once, to hear of what happens to f. Unless Go
 * is past f's last notification, Go stores f as the owner word and holds a
 * reference, given back by the service thread after it delivers
 * (procpool.c); from then on every later change reaches publish(). Returns
 * whether f is done. */
static int arm(FutureObject *f)
{
    if (f->armed)
        return gf_fut_state(f->h) >= ST_CANCELLED;
    f->armed = 1;
    int rc = gf_fut_add_listener(f->h, (uintptr_t)f);
    if (rc & GF_LISTEN_STORED)
        Py_INCREF(f);   /* Go's reference (ownership: see gofutures.h) */
    /* Read after asking: if Go stored f, whatever happens from now on
     * reaches publish(); if not, this state is final. No protocol waiter
     * exists yet to be told of the past. */
    f->seen = gf_fut_state(f->h);
    return (rc & GF_LISTEN_DONE) != 0;
}

/* Publishes Go's state of a process future to the stdlib's protocol: the
 * waiters in _waiters are told of a move to FINISHED or
 * CANCELLED_AND_NOTIFIED, and *notify is set when the future became done
 * (the caller then notify_all()s the condition). Called with the condition
 * held (when it exists) by a thread that does not otherwise hold it: the
 * service thread's delivery. So a thread that holds the condition sees the
 * protocol's state stay put, as the stdlib's wait() relies on (it reads
 * _state twice). Returns 0, or -1 with an exception set (a waiter raised). */
static int publish(FutureObject *f, int *notify)
{
    int s = gf_fut_state(f->h);
    int old = f->seen;
    if (s == old)
        return 0;
    f->seen = s;
    if (s >= ST_CANCELLED && old < ST_CANCELLED)
        *notify = 1;
    if (s == ST_FINISHED)
        return notify_py_waiters(f, gf_fut_failed(f->h) ? "add_exception" : "add_result");
    if (s == ST_CANCELLED_AND_NOTIFIED)
        return notify_py_waiters(f, "add_cancelled");
    return 0;
}

/* The state that _state shows. For an armed process future, a done state
 * only once it is published (until then it still looks pending or
 * running, as the stdlib's future does until its management thread sets
 * the result); PENDING and RUNNING notify nobody, so Go's own is shown. */
static int protocol_state(FutureObject *f)
{
    int s = state_of(f);
    if (!f->remote || !f->armed || s < ST_CANCELLED)
        return s;
    if (f->seen >= ST_CANCELLED)
        return f->seen;
    return s == ST_CANCELLED ? ST_PENDING : ST_RUNNING;
}

/* Logs the error a done-callback raised, as the stdlib's _invoke_callbacks
 * does. Its line names the future's result type ("returned int"), which the
 * stdlib knows because its management thread unpickled the result: a
 * process future's is decoded first, so the log line is the stdlib's (a
 * failure to decode fails the future and is not this log line's business). */
static void log_callback_error(FutureObject *f)
{
    if (f->remote && f->decode != DEC_DONE) {
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        if (gf_future_materialize(f) < 0)
            PyErr_Clear();
        PyErr_Restore(t, v, tb);
    }
    gf_log_current_exception("exception calling callback for %r", (PyObject *)f);
}

/* Runs the done-callbacks once, as _invoke_callbacks does: an Exception is
 * logged and the next callback runs; a BaseException propagates. The list
 * is dropped afterwards (a done future runs new callbacks at once). */
static int invoke_callbacks(FutureObject *f)
{
    PyObject *cbs = f->callbacks;
    if (!cbs)
        return 0;
    f->callbacks = NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(cbs); i++) {
        PyObject *cb = Py_NewRef(PyList_GET_ITEM(cbs, i));
        PyObject *r = PyObject_CallOneArg(cb, (PyObject *)f);
        Py_DECREF(cb);
        if (r) {
            Py_DECREF(r);
        } else if (PyErr_ExceptionMatches(PyExc_Exception)) {
            log_callback_error(f);
        } else {
            Py_DECREF(cbs);
            return -1;
        }
    }
    Py_DECREF(cbs);
    return 0;
}

static PyObject *future_repr(FutureObject *f);

static void set_invalid_state(FutureObject *f)
{
    PyObject *r = future_repr(f);
    if (!r)
        return;
    PyErr_Format(gf_InvalidStateError, "%U: %U", gf_state_str[state_of(f)], r);
    Py_DECREF(r);
}

/* Finishes f with a result, or with exc when exc is not NULL. Raises
 * InvalidStateError if f is already done. */
int gf_future_finish(FutureObject *f, PyObject *result, PyObject *exc)
{
    if (gf_fork_guard() < 0)
        return -1;
    int taken = cond_enter(f);
    if (taken < 0)
        return -1;
    if (gf_fut_finish(f->h, exc != NULL) < 0) {
        cond_exit(f, taken, 0);
        set_invalid_state(f);
        return -1;
    }
    f->final = ST_FINISHED;
    /* Go has woken its waiters; they need the GIL we hold to read these. */
    if (exc)
        Py_XSETREF(f->exception, Py_NewRef(exc));
    else
        Py_XSETREF(f->result, Py_NewRef(result));
    /* A process future finished here, by hand or by the submit that could
     * not pickle its call: this value is the result, and Go's reference
     * (if it holds one) comes back now; the pool finds no owner left. */
    PyObject *owned = NULL;
    if (f->remote) {
        f->seen = ST_FINISHED;
        f->decode = DEC_DONE;
        Py_CLEAR(f->raw);
        owned = (PyObject *)gf_fut_take_owner(f->h);
    }
    int rc = notify_py_waiters(f, exc ? "add_exception" : "add_result");
    cond_exit(f, taken, 1);
    if (rc == 0)
        rc = invoke_callbacks(f);
    Py_XDECREF(owned);   /* the caller holds its own reference to f */
    return rc;
}

/* Runs, on a Python thread, what a completion made by Go without the GIL
 * owes to Python: stdlib-protocol waiters and done-callbacks. Errors are
 * logged (there is no caller to raise them to). */
void gf_future_deliver(FutureObject *f)
{
    /* Go is done with the task, so its state is final (done) here. */
    int taken = cond_enter(f);
    int notify = 0;
    int rc = taken < 0 ? -1 : publish(f, &notify);
    cond_exit(f, taken, notify);
    if (rc == 0)
        rc = invoke_callbacks(f);
    if (rc < 0)
        gf_log_current_exception("exception delivering %r", (PyObject *)f);
}

/* cancel(): 1 cancelled, 0 not, -1 error. */
int gf_future_cancel(FutureObject *f)
{
    if (gf_fork_guard() < 0)
        return -1;
    int taken = cond_enter(f);
    if (taken < 0)
        return -1;
    int rc = gf_fut_cancel(f->h);
    if (f->remote && rc == 2)
        f->seen = ST_CANCELLED;   /* under the condition, as publish() */
    cond_exit(f, taken, rc == 2);
    if (rc == 0)
        return 0;
    if (rc == 2 && invoke_callbacks(f) < 0)
        return -1;
    return 1;
}

/* set_running_or_notify_cancel(): 1 running, 0 cancelled, -1 error. */
int gf_future_set_running(FutureObject *f)
{
    if (gf_fork_guard() < 0)
        return -1;
    int taken = cond_enter(f);
    if (taken < 0)
        return -1;
    int rc = gf_fut_set_running(f->h);
    if (f->remote && rc >= 0)
        f->seen = gf_fut_state(f->h);   /* told just below */
    if (rc == 0 && notify_py_waiters(f, "add_cancelled") < 0) {
        cond_exit(f, taken, 0);
        return -1;
    }
    cond_exit(f, taken, 0);
    if (rc < 0) {
        PyObject *id = PyLong_FromVoidPtr(f);
        PyObject *r = id ? PyObject_CallMethod(gf_LOGGER, "critical", "sOO",
                                               "Future %s in unexpected state: %s", id,
                                               gf_state_str[state_of(f)]) : NULL;
        Py_XDECREF(r);
        Py_XDECREF(id);
        PyErr_Clear();
        PyErr_SetString(PyExc_RuntimeError, "Future in unexpected state");
        return -1;
    }
    return rc;
}

/* Raises the stored exception the way `raise self._exception` does. */
static PyObject *raise_stored(PyObject *exc)
{
    if (PyExceptionInstance_Check(exc))
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    else if (PyExceptionClass_Check(exc))
        PyErr_SetNone(exc);
    else
        PyErr_SetString(PyExc_TypeError, "exceptions must derive from BaseException");
    return NULL;
}

static int has_exception(FutureObject *f)
{
    if (f->remote && f->decode != DEC_DONE)
        return gf_fut_failed(f->h);   /* still bytes: Go knows */
    return f->exception && f->exception != Py_None;
}

int gf_future_failed(FutureObject *f) { return has_exception(f); }

/* Wakes the threads waiting for a decode to end (wait_decoded). An error
 * already set is kept; one from taking the condition (a signal handler's)
 * is returned instead (-1): the waiters recheck on their own anyway. */
static int wake_decoders(FutureObject *f)
{
    if (!f->condition)
        return 0;   /* nobody waits: a waiter makes the condition first */
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    int taken = cond_enter(f);
    if (taken < 0) {
        Py_XDECREF(t); Py_XDECREF(v); Py_XDECREF(tb);
        return -1;
    }
    cond_exit(f, taken, 1);
    PyErr_Restore(t, v, tb);
    return 0;
}

/* Waits, on the condition, until no other thread decodes f. The wait is
 * sliced, so a waker that failed to take the condition costs a slice, not
 * a hang. 0, or -1 with an exception set (Ctrl-C). */
static int wait_decoded(FutureObject *f)
{
    PyObject *c = get_condition(f, NULL);
    if (!c)
        return -1;
    int taken = cond_enter(f);
    int rc = taken < 0 ? -1 : 0;
    while (rc == 0 && f->decode == DEC_BUSY) {
        PyObject *r = PyObject_CallMethod(c, "wait", "d", 0.05);
        if (r)
            Py_DECREF(r);
        else
            rc = -1;
    }
    if (taken > 0) {
        /* release() keeps an exception that is set (cond_exit) */
        cond_exit(f, taken, 0);
    }
    Py_DECREF(c);
    return rc;
}

/* Decodes a process pool's result bytes into f->result or f->exception:
 * once, by the first Python thread that needs them, while any other waits
 * for it. The payload's first byte says what the rest is (core.Tag*). If
 * the bytes cannot be unpickled, the future fails with BrokenProcessPool
 * and the pool breaks, as the stdlib's result handler does. Returns 0, or
 * -1 with an exception set (an internal error, Ctrl-C while waiting, or a
 * re-entry from the thread that is decoding); no byte is lost then: the
 * next call tries again. */
int gf_future_materialize(FutureObject *f)
{
    if (!f->remote || f->decode == DEC_DONE || state_of(f) != ST_FINISHED)
        return 0;
    unsigned long me = PyThread_get_thread_ident();
    while (f->decode == DEC_BUSY) {
        if (f->decoder == me) {
            /* Unpickling the result asked for the result (a __reduce__ or
             * __setstate__ calling back): the stdlib would wait for ever. */
            PyErr_SetString(PyExc_RuntimeError,
                            "the result of this future is read while it is being unpickled");
            return -1;
        }
        if (wait_decoded(f) < 0)
            return -1;
    }
    if (f->decode == DEC_DONE)
        return 0;
    /* DEC_IN_GO: this thread decodes. Claimed while holding the GIL, with
     * no release since the check above. */
    f->decode = DEC_BUSY;
    f->decoder = me;
    if (!f->raw) {
        /* Both Go calls are made without releasing the GIL: no other
         * thread can take the payload in between. */
        int64_t n = gf_fut_payload_len(f->h);
        f->raw = PyBytes_FromStringAndSize(NULL, n > 0 ? n : 0);
        if (!f->raw) {
            f->decode = DEC_IN_GO;
            wake_decoders(f);
            return -1;
        }
        if (n > 0)
            gf_fut_take_payload(f->h, PyBytes_AS_STRING(f->raw), n);
    }
    PyObject *val = NULL;
    if (PyBytes_GET_SIZE(f->raw) > 0) {
        /* Unpickling runs Python code and may let other threads in: they
         * find DEC_BUSY and wait. */
        PyObject *raw = Py_NewRef(f->raw);
        val = gf_procpool_decode(raw, f->pool, f);
        Py_DECREF(raw);
        if (!val) {
            f->decode = DEC_IN_GO;   /* f->raw is kept for the next try */
            wake_decoders(f);
            return -1;
        }
    }
    /* A value stored by hand meanwhile (_result/_exception setters, which
     * end the decode) wins. */
    if (f->decode == DEC_BUSY && val) {
        if (gf_fut_failed(f->h))
            Py_XSETREF(f->exception, Py_NewRef(val));
        else
            Py_XSETREF(f->result, Py_NewRef(val));
    }
    Py_XDECREF(val);
    f->decode = DEC_DONE;
    Py_CLEAR(f->raw);
    Py_CLEAR(f->pool);
    return wake_decoders(f);
}

/* A value set by hand (the stdlib's _result/_exception) ends any decode:
 * the bytes, wherever they are, are dropped. */
static void end_decode(FutureObject *f)
{
    if (!f->remote || f->decode == DEC_DONE)
        return;
    int busy = f->decode == DEC_BUSY;
    f->decode = DEC_DONE;
    Py_CLEAR(f->raw);
    if (!busy)
        gf_fut_take_payload(f->h, NULL, 0);   /* forgets Go's copy */
    wake_decoders(f);
    PyErr_Clear();
}


/* Waits for f to be done within timeout; 1 done, 0 timeout, -1 error. */
static int wait_for(FutureObject *f, PyObject *timeout)
{
    if (gf_fork_guard() < 0)
        return -1;
    int st = state_of(f);
    if (st >= ST_CANCELLED)
        return 1;
    int64_t ns;
    if (gf_parse_timeout(timeout, &ns) < 0)
        return -1;
    if (ns == 0)
        return state_of(f) >= ST_CANCELLED;   /* a poll */
    /* Parks on a semaphore that Go posts when f is done: no Go scheduler
     * hand-off on the wake-up (core/park.go). */
    int r = gf_block_token(f->h, gf_fut_add_token, gf_fut_remove_token, ns);
    return r == 0 ? state_of(f) >= ST_CANCELLED : r;   /* done at the deadline? */
}

/* ---- public methods ---------------------------------------------------- */

static PyObject *future_cancel(FutureObject *f, PyObject *unused)
{
    int r = gf_future_cancel(f);
    if (r < 0)
        return NULL;
    return PyBool_FromLong(r);
}

static PyObject *future_cancelled(FutureObject *f, PyObject *unused)
{
    if (gf_fork_guard() < 0)
        return NULL;
    int st = state_of(f);
    return PyBool_FromLong(st == ST_CANCELLED || st == ST_CANCELLED_AND_NOTIFIED);
}

static PyObject *future_running(FutureObject *f, PyObject *unused)
{
    if (gf_fork_guard() < 0)
        return NULL;
    return PyBool_FromLong(state_of(f) == ST_RUNNING);
}

static PyObject *future_done(FutureObject *f, PyObject *unused)
{
    if (gf_fork_guard() < 0)
        return NULL;
    return PyBool_FromLong(state_of(f) >= ST_CANCELLED);
}

static PyObject *result_or_exception(FutureObject *f, PyObject *timeout, int want_result)
{
    int r = wait_for(f, timeout);
    if (r < 0)
        return NULL;
    int st = state_of(f);
    if (st == ST_CANCELLED || st == ST_CANCELLED_AND_NOTIFIED) {
        PyErr_SetNone(gf_CancelledError);
        return NULL;
    }
    if (st != ST_FINISHED) {
        PyErr_SetNone(gf_TimeoutError);
        return NULL;
    }
    if (f->remote && gf_future_materialize(f) < 0)
        return NULL;
    if (!want_result)
        return Py_NewRef(f->exception ? f->exception : Py_None);
    if (has_exception(f))
        return raise_stored(f->exception);
    return Py_NewRef(f->result ? f->result : Py_None);
}

static PyObject *future_result(FutureObject *f, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"timeout", NULL};
    PyObject *timeout = Py_None;
    if (nargs == 1 && !kwnames) {
        timeout = args[0];
    } else if (nargs || kwnames) {
        /* Slow path: a keyword or a wrong count. */
        PyObject *tup = PyTuple_New(nargs);
        if (!tup)
            return NULL;
        for (Py_ssize_t i = 0; i < nargs; i++)
            PyTuple_SET_ITEM(tup, i, Py_NewRef(args[i]));
        PyObject *kw = NULL;
        if (kwnames) {
            kw = PyDict_New();
            for (Py_ssize_t i = 0; kw && i < PyTuple_GET_SIZE(kwnames); i++)
                if (PyDict_SetItem(kw, PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0)
                    Py_CLEAR(kw);
            if (!kw) {
                Py_DECREF(tup);
                return NULL;
            }
        }
        int ok = PyArg_ParseTupleAndKeywords(tup, kw, "|O:result", (char **)names, &timeout);
        Py_DECREF(tup);
        Py_XDECREF(kw);
        if (!ok)
            return NULL;
    }
    return result_or_exception(f, timeout, 1);
}

static PyObject *future_exception(FutureObject *f, PyObject *args, PyObject *kw)
{
    static char *names[] = {"timeout", NULL};
    PyObject *timeout = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:exception", names, &timeout))
        return NULL;
    return result_or_exception(f, timeout, 0);
}

/* Whether f is done, for add_done_callback: a process future is armed
 * first (its callbacks are run by the service thread, arm()). */
static int done_for_callback(FutureObject *f)
{
    if (f->remote)
        return arm(f);
    return state_of(f) >= ST_CANCELLED;
}

static PyObject *future_add_done_callback(FutureObject *f, PyObject *fn)
{
    if (gf_fork_guard() < 0)
        return NULL;
    if (!done_for_callback(f)) {
        /* Still pending: Go now knows that callbacks wait on this future. */
        if (!f->callbacks && !(f->callbacks = PyList_New(0)))
            return NULL;
        if (PyList_Append(f->callbacks, fn) < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    PyObject *r = PyObject_CallOneArg(fn, (PyObject *)f);
    if (r)
        Py_DECREF(r);
    else if (PyErr_ExceptionMatches(PyExc_Exception))
        log_callback_error(f);
    else
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *future_set_running_or_notify_cancel(FutureObject *f, PyObject *unused)
{
    int r = gf_future_set_running(f);
    if (r < 0)
        return NULL;
    return PyBool_FromLong(r);
}

static PyObject *future_set_result(FutureObject *f, PyObject *result)
{
    if (gf_future_finish(f, result, NULL) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *future_set_exception(FutureObject *f, PyObject *exc)
{
    if (gf_future_finish(f, NULL, exc) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *future_invoke_callbacks_meth(FutureObject *f, PyObject *unused)
{
    if (invoke_callbacks(f) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *future_repr(FutureObject *f)
{
    if (gf_fork_guard() < 0)
        return NULL;
    PyObject *name = PyObject_GetAttrString((PyObject *)Py_TYPE(f), "__name__");
    if (!name)
        return NULL;
    int st = state_of(f);
    PyObject *r;
    if (st == ST_FINISHED && f->remote && f->decode != DEC_DONE) {
        /* A repr never unpickles (that runs the result's code and may break
         * the pool): the type is not known yet. */
        r = PyUnicode_FromFormat("<%U at %p state=%s %s (not yet unpickled)>", name, f,
                                 state_desc[st], gf_fut_failed(f->h) ? "raised" : "returned");
    } else if (st == ST_FINISHED) {
        int raised = f->exception && PyObject_IsTrue(f->exception) > 0;
        PyObject *val = raised ? f->exception : (f->result ? f->result : Py_None);
        r = PyUnicode_FromFormat("<%U at %p state=%s %s %s>", name, f, state_desc[st],
                                 raised ? "raised" : "returned", _PyType_Name(Py_TYPE(val)));
    } else {
        r = PyUnicode_FromFormat("<%U at %p state=%s>", name, f, state_desc[st]);
    }
    Py_DECREF(name);
    return r;
}

/* ---- the stdlib's private attributes ----------------------------------- */

static PyObject *get_state(FutureObject *f, void *c)
{
    if (gf_fork_guard() < 0)
        return NULL;
    return Py_NewRef(gf_state_str[protocol_state(f)]);
}

static int set_state(FutureObject *f, PyObject *v, void *c)
{
    if (!v) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete _state");
        return -1;
    }
    if (gf_fork_guard() < 0)
        return -1;
    for (int i = 0; i < 5; i++) {
        int eq = PyObject_RichCompareBool(v, gf_state_str[i], Py_EQ);
        if (eq < 0)
            return -1;
        if (eq) {
            gf_future_force(f, i, has_exception(f));
            return 0;
        }
    }
    PyErr_Format(PyExc_ValueError, "unknown future state: %R", v);
    return -1;
}

static PyObject *get_result(FutureObject *f, void *c)
{
    if (f->remote && gf_future_materialize(f) < 0)
        return NULL;
    return Py_NewRef(f->result ? f->result : Py_None);
}

static int set_result_attr(FutureObject *f, PyObject *v, void *c)
{
    if (gf_fork_guard() < 0)
        return -1;
    end_decode(f);
    Py_XSETREF(f->result, Py_XNewRef(v));
    return 0;
}

static PyObject *get_exception(FutureObject *f, void *c)
{
    if (f->remote && gf_future_materialize(f) < 0)
        return NULL;
    return Py_NewRef(f->exception ? f->exception : Py_None);
}

static int set_exception_attr(FutureObject *f, PyObject *v, void *c)
{
    if (gf_fork_guard() < 0)
        return -1;
    end_decode(f);
    Py_XSETREF(f->exception, Py_XNewRef(v));
    gf_future_force(f, state_of(f), has_exception(f));
    return 0;
}

static PyObject *get_condition(FutureObject *f, void *c)
{
    if (f->remote && !gf_forked)
        arm(f);   /* before anyone can hold it: see publish() */
    if (!f->condition) {
        /* threading.Condition() runs Python code, so another thread may get
         * here meanwhile: the first one stored is the condition for good
         * (a second would leave a thread holding a lock nobody can find). */
        PyObject *cond = PyObject_CallNoArgs(gf_threading_Condition);
        if (!cond)
            return NULL;
        if (!f->condition)
            f->condition = cond;
        else
            Py_DECREF(cond);
    }
    return Py_NewRef(f->condition);
}

static PyObject *get_waiters(FutureObject *f, void *c)
{
    if (f->remote && !gf_forked)
        arm(f);
    if (!f->waiters && !(f->waiters = PyList_New(0)))
        return NULL;
    return Py_NewRef(f->waiters);
}

static PyObject *get_callbacks(FutureObject *f, void *c)
{
    if (!f->callbacks && !(f->callbacks = PyList_New(0)))
        return NULL;
    return Py_NewRef(f->callbacks);
}

static int set_callbacks(FutureObject *f, PyObject *v, void *c)
{
    if (v && !PyList_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "_done_callbacks must be a list");
        return -1;
    }
    Py_XSETREF(f->callbacks, Py_XNewRef(v));
    return 0;
}

static PyGetSetDef future_getset[] = {
    {"_state", (getter)get_state, (setter)set_state, NULL, NULL},
    {"_result", (getter)get_result, (setter)set_result_attr, NULL, NULL},
    {"_exception", (getter)get_exception, (setter)set_exception_attr, NULL, NULL},
    {"_condition", (getter)get_condition, NULL, NULL, NULL},
    {"_waiters", (getter)get_waiters, NULL, NULL, NULL},
    {"_done_callbacks", (getter)get_callbacks, (setter)set_callbacks, NULL, NULL},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL}};

static PyMethodDef future_methods[] = {
    {"cancel", (PyCFunction)future_cancel, METH_NOARGS,
     "Cancel the future if possible.\n\nReturns True if the future was cancelled, False otherwise."},
    {"cancelled", (PyCFunction)future_cancelled, METH_NOARGS, "Return True if the future was cancelled."},
    {"running", (PyCFunction)future_running, METH_NOARGS, "Return True if the future is currently executing."},
    {"done", (PyCFunction)future_done, METH_NOARGS, "Return True if the future was cancelled or finished executing."},
    {"result", (PyCFunction)(void (*)(void))future_result, METH_FASTCALL | METH_KEYWORDS,
     "result(timeout=None)\n--\n\nReturn the result of the call that the future represents."},
    {"exception", (PyCFunction)(void (*)(void))future_exception, METH_VARARGS | METH_KEYWORDS,
     "exception(timeout=None)\n--\n\nReturn the exception raised by the call that the future represents."},
    {"add_done_callback", (PyCFunction)future_add_done_callback, METH_O,
     "Attaches a callable that will be called when the future finishes."},
    {"set_running_or_notify_cancel", (PyCFunction)future_set_running_or_notify_cancel, METH_NOARGS,
     "Mark the future as running or process any cancel notifications."},
    {"set_result", (PyCFunction)future_set_result, METH_O,
     "Sets the return value of work associated with the future."},
    {"set_exception", (PyCFunction)future_set_exception, METH_O,
     "Sets the result of the future as being the given exception."},
    {"_invoke_callbacks", (PyCFunction)future_invoke_callbacks_meth, METH_NOARGS, NULL},
    {NULL}};

PyTypeObject GfFutureBase_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gofutures._gofutures.FutureBase",
    .tp_basicsize = sizeof(FutureObject),
    .tp_dealloc = (destructor)future_dealloc,
    .tp_repr = (reprfunc)future_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C part of gofutures.Future; its state lives in the Go core.",
    .tp_traverse = (traverseproc)future_traverse,
    .tp_clear = (inquiry)future_clear,
    .tp_weaklistoffset = offsetof(FutureObject, weakreflist),
    .tp_methods = future_methods,
    .tp_getset = future_getset,
    .tp_dictoffset = offsetof(FutureObject, dict),
    .tp_init = future_init,
    .tp_new = future_new,
};
