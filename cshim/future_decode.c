/* Decoding a process future's result: the result stays pickled in Go
 * until a Python thread needs it, and is unpickled once, by that thread,
 * while any other waits on the condition (FutureObject.decode: DEC_IN_GO,
 * DEC_BUSY, DEC_DONE; gofutures.h). No byte is lost on a failed attempt:
 * the next one tries again.
 */
#include "gofutures.h"
#include "future_internal.h"

/* Whether f failed; a process future's may still be bytes in Go. */
int gf_future_failed(FutureObject *f)
{
    if (f->remote && f->decode != DEC_DONE)
        return gf_fut_failed(f->h);   /* still bytes: Go knows */
    return f->exception && f->exception != Py_None;
}

/* Wakes the threads waiting for a decode to end (wait_decoded). An error
 * already set is kept; one from taking the condition (a signal handler's)
 * is returned instead (-1): the waiters recheck on their own anyway. */
static int wake_decoders(FutureObject *f)
{
    if (!f->condition)
        return 0;   /* nobody waits: a waiter makes the condition first */
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    int taken = gf_future_cond_enter(f);
    if (taken < 0) {
        Py_XDECREF(t); Py_XDECREF(v); Py_XDECREF(tb);
        return -1;
    }
    gf_future_cond_exit(f, taken, 1);
    PyErr_Restore(t, v, tb);
    return 0;
}

/* Waits, on the condition, until no other thread decodes f. The wait is
 * sliced, so a waker that failed to take the condition costs a slice, not
 * a hang. 0, or -1 with an exception set (Ctrl-C). */
static int wait_decoded(FutureObject *f)
{
    PyObject *c = gf_future_condition(f);
    if (!c)
        return -1;
    int taken = gf_future_cond_enter(f);
    int rc = taken < 0 ? -1 : 0;
    while (rc == 0 && f->decode == DEC_BUSY) {
        PyObject *r = PyObject_CallMethod(c, "wait", "d", 0.05);
        if (r)
            Py_DECREF(r);
        else
            rc = -1;
    }
    if (taken > 0) {
        /* release() keeps an exception that is set (gf_future_cond_exit) */
        gf_future_cond_exit(f, taken, 0);
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
void gf_future_end_decode(FutureObject *f)
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

