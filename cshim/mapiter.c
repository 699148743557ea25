/* Executor.map's submission loop and result iterator, in C.
 *
 * map_submit(submit, fn, iterables, end_time[, buffersize, executor]) calls
 * submit(fn, *args) for args in zip(*iterables) and returns an iterator that
 * yields the results in order. Each wait is bounded by the time left until
 * end_time (measured from the map() call).
 *
 * Without buffersize everything is submitted before the first result is
 * asked for, as the stdlib does. On 3.12+ the future being waited on is
 * cancelled when the wait ends without a result (the stdlib's
 * _result_or_cancel).
 *
 * With buffersize (Python 3.14's map, gh-74028, on every version): at most
 * buffersize calls are submitted up front; each next() first submits the
 * next call through executor.submit (reached through a weak reference, so
 * the iterator does not keep the executor alive) and then waits for the
 * oldest one. The input is read lazily, one item per result, and the
 * waited-on future is always cancelled when its wait ends without a result.
 * A context (ThreadPoolExecutor(context="copy"), the 7th argument: a copy
 * of the map() caller's context) is entered around those later submits, so
 * every call of one map() sees the context of the map() call, not that of
 * whichever thread happens to call next().
 *
 * When the iterator raises, is closed or is dropped after its first next(),
 * the futures not yet yielded are cancelled. One dropped or closed before
 * any next() cancels nothing: the stdlib's generator never entered its
 * try/finally (bpo-11777: map() submits everything even when its result is
 * discarded).
 */
#include "gofutures.h"
#include "guard.h"

typedef struct {
    PyObject_HEAD
    PyObject *fs;        /* list of futures; [pos:] are not yet yielded */
    Py_ssize_t pos;      /* next to yield */
    double end_time;     /* monotonic seconds, < 0: none */
    int started;         /* next() was called */
    GfGuard guard;       /* as a generator: no next()/close() inside next() (guard.h) */
    int buffered;        /* made with a buffersize */
    /* Buffered mode, while there is input left (NULL otherwise): */
    PyObject *args;      /* the zip of the input; NULL once exhausted */
    PyObject *fn;
    PyObject *executor;  /* weakref to the executor */
    PyObject *ctx;       /* contextvars.Context to submit in, or NULL (owned) */
} MapIterObject;

static int result_or_cancel;   /* 1 where the stdlib has _result_or_cancel */
static PyObject *str_submit;   /* "submit", interned */

/* The input and fn are needed only while there is something to submit. */
static void clear_input(MapIterObject *it)
{
    Py_CLEAR(it->args);
    Py_CLEAR(it->fn);
    Py_CLEAR(it->ctx);
}

/* f.cancel(), its errors dropped: the caller keeps the current exception
 * fetched. */
static void cancel_quietly(PyObject *f)
{
    PyObject *r = GfFuture_Check(f) ? (gf_future_cancel((FutureObject *)f) < 0 ? NULL : Py_NewRef(Py_None))
                                    : PyObject_CallMethod(f, "cancel", NULL);
    if (r) Py_DECREF(r); else PyErr_Clear();
}

static void cancel_remaining(MapIterObject *it)
{
    clear_input(it);
    if (!it->fs)
        return;
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyObject *fs = it->fs;
    it->fs = NULL;
    for (Py_ssize_t i = it->pos; i < PyList_GET_SIZE(fs); i++)
        cancel_quietly(PyList_GET_ITEM(fs, i));
    Py_DECREF(fs);
    PyErr_Restore(t, v, tb);
}

/* submit(fn, *item), or executor.submit(fn, *item) when executor is not
 * NULL (looked up on the instance each time, as 3.14's map does, so a
 * wrapped submit, e.g. the backpressure gate, is honoured). New reference. */
static PyObject *submit_item(PyObject *submit, PyObject *executor, PyObject *fn, PyObject *item)
{
    Py_ssize_t n = PyTuple_GET_SIZE(item);
    PyObject *stack[64];
    if (n + 2 <= 64) {
        stack[0] = executor;
        stack[1] = fn;
        for (Py_ssize_t i = 0; i < n; i++)
            stack[i + 2] = PyTuple_GET_ITEM(item, i);
        if (executor)
            return PyObject_VectorcallMethod(str_submit, stack, (n + 2) | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
        return PyObject_Vectorcall(submit, stack + 1, (n + 1) | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    }
    PyObject *a = PyTuple_New(n + 1);
    if (!a)
        return NULL;
    PyTuple_SET_ITEM(a, 0, Py_NewRef(fn));
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(a, i + 1, Py_NewRef(PyTuple_GET_ITEM(item, i)));
    PyObject *meth = executor ? PyObject_GetAttrString(executor, "submit") : Py_NewRef(submit);
    PyObject *f = meth ? PyObject_Call(meth, a, NULL) : NULL;
    Py_XDECREF(meth);
    Py_DECREF(a);
    return f;
}

/* Submits up to limit (< 0: all) items of zip into fs. 0 when zip was
 * exhausted, 1 when the limit was reached first, -1 on error. */
static int submit_from(PyObject *fs, PyObject *zip, PyObject *submit, PyObject *fn, Py_ssize_t limit)
{
    PyObject *item;
    for (Py_ssize_t i = 0; limit < 0 || i < limit; i++) {
        if (!(item = PyIter_Next(zip)))
            return PyErr_Occurred() ? -1 : 0;
        PyObject *f = submit_item(submit, NULL, fn, item);
        Py_DECREF(item);
        if (!f || PyList_Append(fs, f) < 0) {
            Py_XDECREF(f);
            return -1;
        }
        Py_DECREF(f);
    }
    return 1;
}

PyObject *gf_map_submit(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 && nargs != 6 && nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "map_submit(submit, fn, iterables, end_time[, buffersize, executor[, context]])");
        return NULL;
    }
    PyObject *ctx = nargs == 7 && args[6] != Py_None ? args[6] : NULL;
    if (ctx && !PyContext_CheckExact(ctx)) {
        PyErr_SetString(PyExc_TypeError, "map_submit: context must be a contextvars.Context");
        return NULL;
    }
    PyObject *submit = args[0], *fn = args[1], *iterables = args[2];
    double end_time = args[3] == Py_None ? -1 : PyFloat_AsDouble(args[3]);
    if (end_time == -1 && PyErr_Occurred())
        return NULL;
    if (end_time < -0.5 && args[3] != Py_None)
        end_time = 0;
    Py_ssize_t buffersize = -1;
    if (nargs >= 6) {
        buffersize = PyLong_AsSsize_t(args[4]);   /* validated (>= 1) by the caller */
        if (buffersize == -1 && PyErr_Occurred()) {
            if (PyErr_ExceptionMatches(PyExc_OverflowError)) {   /* 3.14's islice says: */
                PyErr_SetString(PyExc_ValueError, "Stop argument for islice() must be None or "
                                "an integer: 0 <= x <= sys.maxsize.");
            }
            return NULL;
        }
    }
    PyObject *zip = PyObject_Call((PyObject *)&PyZip_Type, iterables, NULL);
    if (!zip)
        return NULL;
    PyObject *fs = PyList_New(0);
    PyObject *ref = nargs >= 6 ? PyWeakref_NewRef(args[5], NULL) : NULL;
    int more = fs && (nargs == 4 || ref) ? submit_from(fs, zip, submit, fn, buffersize) : -1;
    if (more < 0)
        goto fail;
    MapIterObject *it = PyObject_GC_New(MapIterObject, &GfMapIter_Type);
    if (!it)
        goto fail;
    it->fs = fs;
    it->pos = 0;
    it->end_time = end_time;
    it->started = 0;
    it->guard = (GfGuard){0, 0};
    it->buffered = nargs >= 6;
    /* more == 1 only in buffered mode: the input has items left to submit. */
    it->args = more ? Py_NewRef(zip) : NULL;
    it->fn = more ? Py_NewRef(fn) : NULL;
    it->executor = more ? Py_NewRef(ref) : NULL;
    it->ctx = more ? Py_XNewRef(ctx) : NULL;   /* only the later submits need it */
    Py_DECREF(zip);
    Py_XDECREF(ref);
    PyObject_GC_Track(it);
    return (PyObject *)it;
fail:
    Py_DECREF(zip);
    Py_XDECREF(fs);
    Py_XDECREF(ref);
    return NULL;
}

/* Buffered mode, before each wait: submits the next item through the
 * executor, if it is still alive and the input has one. -1 on error. */
static int refill(MapIterObject *it)
{
    PyObject *ex;
#if PY_VERSION_HEX >= 0x030D0000
    if (PyWeakref_GetRef(it->executor, &ex) < 0)
        return -1;
#else
    ex = Py_XNewRef(PyWeakref_GetObject(it->executor));
    if (!ex)
        return -1;
    if (ex == Py_None)
        Py_CLEAR(ex);
#endif
    if (!ex) {              /* the executor is gone: yield what was submitted */
        clear_input(it);
        return 0;
    }
    PyObject *item = PyIter_Next(it->args);
    if (!item) {
        Py_DECREF(ex);
        clear_input(it);
        return PyErr_Occurred() ? -1 : 0;
    }
    /* The guard (mi_next) keeps next() single: this iterator's own ctx is
     * entered by one thread at a time, so the enter cannot fail but for a
     * caller's bug; then the submit fails with its RuntimeError. */
    PyObject *f = NULL;
    if (!it->ctx || PyContext_Enter(it->ctx) == 0) {
        f = submit_item(NULL, ex, it->fn, item);
        if (it->ctx) {
            PyObject *t, *v, *tb;
            PyErr_Fetch(&t, &v, &tb);
            if (PyContext_Exit(it->ctx) < 0)
                PyErr_Clear();   /* not current any more: the submit's code switched it */
            PyErr_Restore(t, v, tb);
        }
    }
    Py_DECREF(item);
    Py_DECREF(ex);
    if (!f || PyList_Append(it->fs, f) < 0) {
        Py_XDECREF(f);
        return -1;
    }
    Py_DECREF(f);
    /* Drop the yielded prefix now and then: the list stays about
     * buffersize long however long the input is (amortized O(1)). */
    if (it->pos >= 64 && it->pos * 2 >= PyList_GET_SIZE(it->fs)) {
        if (PyList_SetSlice(it->fs, 0, it->pos, NULL) < 0)
            return -1;
        it->pos = 0;
    }
    return 0;
}

/* close() or dealloc: cancels what is left only once iteration began. */
static void mi_stop(MapIterObject *it)
{
    if (it->started) {
        cancel_remaining(it);
    } else {
        Py_CLEAR(it->fs);
        clear_input(it);
    }
}

static PyObject *mi_next_body(MapIterObject *it);

/* next() runs arbitrary code (the input's next(), submit(), which may wait
 * for room, result()): like a generator, the iterator refuses to be
 * re-entered or closed meanwhile, from this thread or another (guard.h). */
static PyObject *mi_next(MapIterObject *it)
{
    if (gf_guard_enter(&it->guard) <= 0)
        return NULL;
    Py_INCREF(it);   /* no dealloc or tp_clear under a running next() */
    PyObject *r = mi_next_body(it);
    gf_guard_leave(&it->guard);
    Py_DECREF(it);
    return r;
}

static PyObject *mi_next_body(MapIterObject *it)
{
    it->started = 1;
    if (!it->fs)
        return NULL;
    if (it->pos >= PyList_GET_SIZE(it->fs)) {
        Py_CLEAR(it->fs);
        clear_input(it);
        return NULL;
    }
    if (it->args && refill(it) < 0) {
        cancel_remaining(it);
        return NULL;
    }
    PyObject *f = PyList_GET_ITEM(it->fs, it->pos);
    /* Let go of the future before yielding its result, as the stdlib does. */
    PyList_SET_ITEM(it->fs, it->pos, Py_NewRef(Py_None));
    it->pos++;
    PyObject *timeout = it->end_time < 0 ? Py_NewRef(Py_None)
                                         : PyFloat_FromDouble(it->end_time - gf_now_ns() / 1e9);
    PyObject *r = timeout ? PyObject_CallMethod(f, "result", "O", timeout) : NULL;
    Py_XDECREF(timeout);
    if (result_or_cancel || it->buffered) {   /* 3.14's map always cancels it */
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        cancel_quietly(f);
        PyErr_Restore(t, v, tb);
    }
    Py_DECREF(f);
    if (!r)
        cancel_remaining(it);
    return r;
}

/* Busy while it cancels (cancel() runs callbacks), as a generator is while
 * its finally clause runs inside close(). */
static PyObject *mi_close(MapIterObject *it, PyObject *unused)
{
    int r = gf_guard_close(&it->guard);
    if (r < 0)
        return NULL;
    if (r > 0) {
        mi_stop(it);
        gf_guard_leave(&it->guard);
    }
    Py_RETURN_NONE;
}

static int mi_traverse(MapIterObject *it, visitproc visit, void *arg)
{
    Py_VISIT(it->fs);
    Py_VISIT(it->args);
    Py_VISIT(it->fn);
    Py_VISIT(it->executor);
    Py_VISIT(it->ctx);
    return 0;
}

static int mi_clear(MapIterObject *it)
{
    Py_CLEAR(it->fs);
    clear_input(it);
    Py_CLEAR(it->executor);
    return 0;
}

static void mi_dealloc(MapIterObject *it)
{
    PyObject_GC_UnTrack(it);
    mi_stop(it);
    mi_clear(it);
    PyObject_GC_Del(it);
}

static PyMethodDef mi_methods[] = {
    {"close", (PyCFunction)mi_close, METH_NOARGS, "Cancel the futures not yet yielded."},
    {NULL}};

PyTypeObject GfMapIter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gofutures._gofutures.map_iterator",
    .tp_basicsize = sizeof(MapIterObject),
    .tp_dealloc = (destructor)mi_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)mi_traverse,
    .tp_clear = (inquiry)mi_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)mi_next,
    .tp_methods = mi_methods,
};

int gf_mapiter_init(PyObject *base_module)
{
    result_or_cancel = PyObject_HasAttrString(base_module, "_result_or_cancel");
    str_submit = PyUnicode_InternFromString("submit");
    return str_submit ? 0 : -1;
}
