/* gofutures.Future: a concurrent.futures.Future whose state machine lives
 * in Go (core.Future, reached through the handle f->h). This file holds the
 * type and its public methods; future_internal.h says where the rest is
 * (transitions, the stdlib's private protocol, decoding).
 *
 * The C object owns the Python values (result, exception, callbacks) and
 * shows them to the cycle collector.
 */
#include "gofutures.h"
#include "structmember.h"
#include "fork.h"
#include "future_internal.h"

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
    if (gf_future_failed(f))
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
 * first (its callbacks are run by the service thread, gf_future_arm()). */
static int done_for_callback(FutureObject *f)
{
    if (f->remote)
        return gf_future_arm(f);
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
        gf_future_log_callback_error(f);
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
    if (gf_future_invoke_callbacks(f) < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyObject *gf_future_repr(FutureObject *f)
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
    .tp_repr = (reprfunc)gf_future_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C part of gofutures.Future; its state lives in the Go core.",
    .tp_traverse = (traverseproc)future_traverse,
    .tp_clear = (inquiry)future_clear,
    .tp_weaklistoffset = offsetof(FutureObject, weakreflist),
    .tp_methods = future_methods,
    .tp_getset = gf_future_getset,   /* future_protocol.c */
    .tp_dictoffset = offsetof(FutureObject, dict),
    .tp_init = future_init,
    .tp_new = future_new,
};
