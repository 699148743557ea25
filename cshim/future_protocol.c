/* The stdlib's private protocol on gofutures.Future (the attributes and
 * calls that concurrent.futures._base's wait()/as_completed() and asyncio
 * use): _state, _condition, _waiters, _result, _exception,
 * _done_callbacks, _invoke_callbacks.
 *
 * The condition and the waiter list are made only when first read; once
 * they exist, every transition (future_state.c) takes the condition and
 * tells the waiters, exactly as the stdlib does.
 *
 * Process futures are completed by Go without the GIL, so the protocol
 * cannot see Go's state directly: what it sees (f->seen) is published
 * under the condition, together with the waiters' notification, by the
 * pool's service thread alone (gf_future_publish, from gf_future_deliver).
 * A thread holding the condition therefore never sees _state move.
 */
#include "gofutures.h"
#include "future_internal.h"

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

/* Takes f->condition when the stdlib protocol is in use: 1 taken, 0 no
 * condition exists (nobody uses the protocol), -1 error. */
int gf_future_cond_enter(FutureObject *f)
{
    if (!f->condition)
        return 0;
    return gf_cond_acquire(f->condition) < 0 ? -1 : 1;
}

/* Releases what gf_future_cond_enter took, after notify_all() when asked.
 * Keeps an exception that is already set. */
void gf_future_cond_exit(FutureObject *f, int taken, int notify)
{
    if (taken > 0)
        gf_cond_release(f->condition, notify);
}

/* A threading.Condition's acquire(): 0, or -1 with an exception set. */
int gf_cond_acquire(PyObject *cond)
{
    PyObject *r = PyObject_CallMethod(cond, "acquire", NULL);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* notify_all() when asked, then release(); an exception already set is
 * kept, and one from these calls dropped (the lock is released whatever
 * happened, as a `with` block's exit does). */
void gf_cond_release(PyObject *cond, int notify)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyObject *r;
    if (notify) {
        r = PyObject_CallMethod(cond, "notify_all", NULL);
        if (r) Py_DECREF(r); else PyErr_Clear();
    }
    r = PyObject_CallMethod(cond, "release", NULL);
    if (r) Py_DECREF(r); else PyErr_Clear();
    PyErr_Restore(t, v, tb);
}

/* Tells the stdlib-protocol waiters (in _waiters) about a completion. */
int gf_future_notify_waiters(FutureObject *f, const char *method)
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

/* Process futures: asks Go, once, to hear of what happens to f. Unless Go
 * is past f's last notification, Go stores f as the owner word and holds a
 * reference, given back by the service thread after it delivers
 * (procpool.c); from then on every later change reaches gf_future_publish(). Returns
 * whether f is done. */
int gf_future_arm(FutureObject *f)
{
    if (f->armed)
        return gf_fut_state(f->h) >= ST_CANCELLED;
    f->armed = 1;
    int rc = gf_fut_add_listener(f->h, (uintptr_t)f);
    if (rc & GF_LISTEN_STORED)
        Py_INCREF(f);   /* Go's reference (ownership: see gofutures.h) */
    /* Read after asking: if Go stored f, whatever happens from now on
     * reaches gf_future_publish(); if not, this state is final. No protocol waiter
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
int gf_future_publish(FutureObject *f, int *notify)
{
    int s = gf_fut_state(f->h);
    int old = f->seen;
    if (s == old)
        return 0;
    f->seen = s;
    if (s >= ST_CANCELLED && old < ST_CANCELLED)
        *notify = 1;
    if (s == ST_FINISHED)
        return gf_future_notify_waiters(f, gf_fut_failed(f->h) ? "add_exception" : "add_result");
    if (s == ST_CANCELLED_AND_NOTIFIED)
        return gf_future_notify_waiters(f, "add_cancelled");
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
void gf_future_log_callback_error(FutureObject *f)
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
int gf_future_invoke_callbacks(FutureObject *f)
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
            gf_future_log_callback_error(f);
        } else {
            Py_DECREF(cbs);
            return -1;
        }
    }
    Py_DECREF(cbs);
    return 0;
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
            gf_future_force(f, i, gf_future_failed(f));
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
    gf_future_end_decode(f);
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
    gf_future_end_decode(f);
    Py_XSETREF(f->exception, Py_XNewRef(v));
    gf_future_force(f, state_of(f), gf_future_failed(f));
    return 0;
}

PyObject *gf_future_condition(FutureObject *f)
{
    if (f->remote && !gf_forked)
        gf_future_arm(f);   /* before anyone can hold it: see gf_future_publish() */
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

static PyObject *get_condition(FutureObject *f, void *c)
{
    return gf_future_condition(f);
}

static PyObject *get_waiters(FutureObject *f, void *c)
{
    if (f->remote && !gf_forked)
        gf_future_arm(f);
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

PyGetSetDef gf_future_getset[] = {
    {"_state", (getter)get_state, (setter)set_state, NULL, NULL},
    {"_result", (getter)get_result, (setter)set_result_attr, NULL, NULL},
    {"_exception", (getter)get_exception, (setter)set_exception_attr, NULL, NULL},
    {"_condition", (getter)get_condition, NULL, NULL, NULL},
    {"_waiters", (getter)get_waiters, NULL, NULL, NULL},
    {"_done_callbacks", (getter)get_callbacks, (setter)set_callbacks, NULL, NULL},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL}};

