/* The transitions of gofutures.Future that Python code makes (a pool's
 * worker, set_result(), cancel(), ...): each is made in Go while this
 * thread holds the GIL, and the values are stored before the GIL is
 * released, so a thread woken by Go (which must take the GIL to read them)
 * always sees them. Each one that the stdlib's protocol must see takes the
 * condition and tells the waiters (future_protocol.c).
 *
 * Go's own transitions of process futures (made without the GIL) reach
 * Python through gf_future_deliver, on the pool's service thread.
 */
#include "gofutures.h"
#include "future_internal.h"
#include "fork.h"

void gf_future_force(FutureObject *f, int state, int failed)
{
    gf_fut_force(f->h, state, failed);
    f->final = (state == ST_FINISHED || state == ST_CANCELLED_AND_NOTIFIED) ? state : 0;
    f->seen = state;   /* as the stdlib's setter: nobody is told */
}

static void set_invalid_state(FutureObject *f)
{
    PyObject *r = gf_future_repr(f);
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
    int taken = gf_future_cond_enter(f);
    if (taken < 0)
        return -1;
    if (gf_fut_finish(f->h, exc != NULL) < 0) {
        gf_future_cond_exit(f, taken, 0);
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
    int rc = gf_future_notify_waiters(f, exc ? "add_exception" : "add_result");
    gf_future_cond_exit(f, taken, 1);
    if (rc == 0)
        rc = gf_future_invoke_callbacks(f);
    Py_XDECREF(owned);   /* the caller holds its own reference to f */
    return rc;
}

/* Runs, on a Python thread, what a completion made by Go without the GIL
 * owes to Python: stdlib-protocol waiters and done-callbacks. Errors are
 * logged (there is no caller to raise them to). */
void gf_future_deliver(FutureObject *f)
{
    /* Go is done with the task, so its state is final (done) here. */
    int taken = gf_future_cond_enter(f);
    int notify = 0;
    int rc = taken < 0 ? -1 : gf_future_publish(f, &notify);
    gf_future_cond_exit(f, taken, notify);
    if (rc == 0)
        rc = gf_future_invoke_callbacks(f);
    if (rc < 0)
        gf_log_current_exception("exception delivering %r", (PyObject *)f);
}

/* cancel(): 1 cancelled, 0 not, -1 error. */
int gf_future_cancel(FutureObject *f)
{
    if (gf_fork_guard() < 0)
        return -1;
    int taken = gf_future_cond_enter(f);
    if (taken < 0)
        return -1;
    int rc = gf_fut_cancel(f->h);
    if (f->remote && rc == 2)
        f->seen = ST_CANCELLED;   /* under the condition, as gf_future_publish() */
    gf_future_cond_exit(f, taken, rc == 2);
    if (rc == 0)
        return 0;
    if (rc == 2 && gf_future_invoke_callbacks(f) < 0)
        return -1;
    return 1;
}

/* set_running_or_notify_cancel(): 1 running, 0 cancelled, -1 error. */
int gf_future_set_running(FutureObject *f)
{
    if (gf_fork_guard() < 0)
        return -1;
    int taken = gf_future_cond_enter(f);
    if (taken < 0)
        return -1;
    int rc = gf_fut_set_running(f->h);
    if (f->remote && rc >= 0)
        f->seen = gf_fut_state(f->h);   /* told just below */
    if (rc == 0 && gf_future_notify_waiters(f, "add_cancelled") < 0) {
        gf_future_cond_exit(f, taken, 0);
        return -1;
    }
    gf_future_cond_exit(f, taken, 0);
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
