/* Executor.map's submission loop and result iterator, in C.
 *
 * map_submit(submit, fn, iterables, end_time) calls submit(fn, *args) for
 * every args in zip(*iterables) (all submitted before the first result is
 * asked for, as the stdlib does) and returns an iterator that yields the
 * results in order. Each wait is bounded by the time left until end_time
 * (measured from the map() call). On 3.12+ the future being waited on is
 * cancelled when the wait ends without a result (the stdlib's
 * _result_or_cancel); when the iterator raises, is closed or is dropped
 * after its first next(), the futures not yet yielded are cancelled. One
 * dropped or closed before any next() cancels nothing: the stdlib's
 * generator never entered its try/finally (bpo-11777: map() submits
 * everything even when its result is discarded).
 */
#include "gofutures.h"

typedef struct {
    PyObject_HEAD
    PyObject *fs;        /* list of futures */
    Py_ssize_t pos;      /* next to yield */
    double end_time;     /* monotonic seconds, < 0: none */
    int started;         /* next() was called */
} MapIterObject;

static int result_or_cancel;   /* 1 where the stdlib has _result_or_cancel */

static void cancel_remaining(MapIterObject *it)
{
    if (!it->fs)
        return;
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyObject *fs = it->fs;
    it->fs = NULL;
    for (Py_ssize_t i = it->pos; i < PyList_GET_SIZE(fs); i++) {
        PyObject *f = PyList_GET_ITEM(fs, i);
        PyObject *r = GfFuture_Check(f) ? (gf_future_cancel((FutureObject *)f) < 0 ? NULL : Py_NewRef(Py_None))
                                        : PyObject_CallMethod(f, "cancel", NULL);
        if (r) Py_DECREF(r); else PyErr_Clear();
    }
    Py_DECREF(fs);
    PyErr_Restore(t, v, tb);
}

PyObject *gf_map_submit(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "map_submit(submit, fn, iterables, end_time)");
        return NULL;
    }
    PyObject *submit = args[0], *fn = args[1], *iterables = args[2];
    double end_time = args[3] == Py_None ? -1 : PyFloat_AsDouble(args[3]);
    if (end_time == -1 && PyErr_Occurred())
        return NULL;
    if (end_time < -0.5 && args[3] != Py_None)
        end_time = 0;
    PyObject *zip = PyObject_Call((PyObject *)&PyZip_Type, iterables, NULL);
    if (!zip)
        return NULL;
    PyObject *fs = PyList_New(0);
    if (!fs) {
        Py_DECREF(zip);
        return NULL;
    }
    PyObject *item;
    PyObject *stack[64];
    while ((item = PyIter_Next(zip))) {
        Py_ssize_t n = PyTuple_GET_SIZE(item);
        PyObject *f;
        if (n + 1 <= 64) {
            stack[0] = fn;
            for (Py_ssize_t i = 0; i < n; i++)
                stack[i + 1] = PyTuple_GET_ITEM(item, i);
            f = PyObject_Vectorcall(submit, stack, n + 1, NULL);
        } else {
            PyObject *a = PyTuple_New(n + 1);
            if (!a) {
                Py_DECREF(item);
                goto fail;
            }
            PyTuple_SET_ITEM(a, 0, Py_NewRef(fn));
            for (Py_ssize_t i = 0; i < n; i++)
                PyTuple_SET_ITEM(a, i + 1, Py_NewRef(PyTuple_GET_ITEM(item, i)));
            f = PyObject_Call(submit, a, NULL);
            Py_DECREF(a);
        }
        Py_DECREF(item);
        if (!f || PyList_Append(fs, f) < 0) {
            Py_XDECREF(f);
            goto fail;
        }
        Py_DECREF(f);
    }
    if (PyErr_Occurred())
        goto fail;
    Py_DECREF(zip);
    MapIterObject *it = PyObject_GC_New(MapIterObject, &GfMapIter_Type);
    if (!it) {
        Py_DECREF(fs);
        return NULL;
    }
    it->fs = fs;
    it->pos = 0;
    it->end_time = end_time;
    it->started = 0;
    PyObject_GC_Track(it);
    return (PyObject *)it;
fail:
    Py_DECREF(zip);
    Py_DECREF(fs);
    return NULL;
}

/* close() or dealloc: cancels what is left only once iteration began. */
static void mi_stop(MapIterObject *it)
{
    if (it->started)
        cancel_remaining(it);
    else
        Py_CLEAR(it->fs);
}

static PyObject *mi_next(MapIterObject *it)
{
    it->started = 1;
    if (!it->fs)
        return NULL;
    if (it->pos >= PyList_GET_SIZE(it->fs)) {
        Py_CLEAR(it->fs);
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
    if (result_or_cancel) {
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyObject *c = GfFuture_Check(f) ? (gf_future_cancel((FutureObject *)f) < 0 ? NULL : Py_NewRef(Py_None))
                                        : PyObject_CallMethod(f, "cancel", NULL);
        if (c) Py_DECREF(c); else PyErr_Clear();
        PyErr_Restore(t, v, tb);
    }
    Py_DECREF(f);
    if (!r)
        cancel_remaining(it);
    return r;
}

static PyObject *mi_close(MapIterObject *it, PyObject *unused)
{
    mi_stop(it);
    Py_RETURN_NONE;
}

static int mi_traverse(MapIterObject *it, visitproc visit, void *arg)
{
    Py_VISIT(it->fs);
    return 0;
}

static int mi_clear(MapIterObject *it)
{
    Py_CLEAR(it->fs);
    return 0;
}

static void mi_dealloc(MapIterObject *it)
{
    PyObject_GC_UnTrack(it);
    mi_stop(it);
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

void gf_mapiter_init(PyObject *base_module)
{
    result_or_cancel = PyObject_HasAttrString(base_module, "_result_or_cancel");
}
