/* CoreMethod: an executor method, on the executor's class, that forwards
 * to the same method of the executor's C core (self._core) without a Python
 * frame.
 *
 * Why not `self.submit = core.submit` on each instance: that bound method
 * holds the core, not the executor, so in
 * `ThreadPoolExecutor(1).submit(abs, -1)` the executor is freed between the
 * attribute lookup and the call, its weakref callback shuts the core down,
 * and the submit fails with "cannot schedule new futures after shutdown".
 * The stdlib's bound method holds the executor for the call. A method on
 * the class does too (the caller's stack or the bound method holds self),
 * and it makes no reference cycle: a dropped executor is still freed at
 * once, which is how its workers learn to exit (the stdlib's
 * test_del_shutdown relies on that, without gc).
 *
 * CoreMethod(impl, fallback): impl(core, *args, **kwargs) is the core
 * type's method (e.g. ThreadPool.submit); fallback(self, *args, **kwargs)
 * runs when self._core is None (the stdlib's pool in a forked child,
 * _fork.py), and lends its name, docstring and signature (__wrapped__).
 * The type is a method descriptor (Py_TPFLAGS_METHOD_DESCRIPTOR), so
 * `ex.submit(...)` calls it with self first and makes no bound object.
 */
#include "gofutures.h"
#include "structmember.h"

/* A METH_FASTCALL | METH_KEYWORDS C function. */
typedef PyObject *(*fastkw_fn)(PyObject *, PyObject *const *, Py_ssize_t, PyObject *);

typedef struct {
    PyObject_HEAD
    PyObject *impl;       /* the core's method: impl(core, *args, **kwargs) */
    PyObject *fallback;   /* the Python method, for self._core None */
    PyObject *dict;       /* __name__, __doc__, ... copied from fallback */
    vectorcallfunc vectorcall;
    /* impl's C function when impl is a METH_FASTCALL|METH_KEYWORDS method
     * of core_type (the pools' are): called directly, without the stack
     * copy and the descriptor's own call. */
    fastkw_fn meth;
    PyTypeObject *core_type;
} CoreMethodObject;

static PyObject *str_core;

/* args[0] is the executor, borrowed from the caller, who keeps it alive
 * for the whole call. */
static PyObject *cm_vectorcall(CoreMethodObject *m, PyObject *const *args, size_t nargsf,
                               PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "unbound executor method needs an argument");
        return NULL;
    }
    PyObject *core = PyObject_GetAttr(args[0], str_core);
    if (!core)
        return NULL;
    if (core == Py_None) {
        Py_DECREF(core);
        return PyObject_Vectorcall(m->fallback, args, nargsf, kwnames);
    }
    if (m->meth && Py_IS_TYPE(core, m->core_type)) {
        PyObject *r = m->meth(core, args + 1, nargs - 1, kwnames);
        Py_DECREF(core);
        return r;
    }
    /* The same arguments with the core in self's place. */
    Py_ssize_t n = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    PyObject *small[8], **stack = small;
    if (n > (Py_ssize_t)(sizeof small / sizeof small[0])) {
        stack = PyMem_Malloc(n * sizeof(PyObject *));
        if (!stack) {
            Py_DECREF(core);
            return PyErr_NoMemory();
        }
    }
    stack[0] = core;
    for (Py_ssize_t i = 1; i < n; i++)
        stack[i] = args[i];
    PyObject *r = PyObject_Vectorcall(m->impl, stack, nargs, kwnames);
    if (stack != small)
        PyMem_Free(stack);
    Py_DECREF(core);
    return r;
}

static PyObject *cm_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    PyObject *impl, *fallback;
    if (!PyArg_ParseTuple(args, "OO:CoreMethod", &impl, &fallback))
        return NULL;
    if (!PyCallable_Check(impl) || !PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "CoreMethod(impl, fallback) takes two callables");
        return NULL;
    }
    CoreMethodObject *m = (CoreMethodObject *)type->tp_alloc(type, 0);
    if (!m)
        return NULL;
    m->impl = Py_NewRef(impl);
    m->fallback = Py_NewRef(fallback);
    m->vectorcall = (vectorcallfunc)cm_vectorcall;
    if (Py_IS_TYPE(impl, &PyMethodDescr_Type)) {
        PyMethodDescrObject *d = (PyMethodDescrObject *)impl;
        if ((d->d_method->ml_flags & ~METH_COEXIST) == (METH_FASTCALL | METH_KEYWORDS)) {
            m->meth = (fastkw_fn)(void (*)(void))d->d_method->ml_meth;
            m->core_type = PyDescr_TYPE(d);   /* kept alive by impl */
        }
    }
    m->dict = PyDict_New();
    if (!m->dict) {
        Py_DECREF(m);
        return NULL;
    }
    static const char *const names[] = {"__name__", "__qualname__", "__doc__", "__module__"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        PyObject *v = PyObject_GetAttrString(fallback, names[i]);
        if (!v) {
            PyErr_Clear();
            continue;
        }
        int rc = PyDict_SetItemString(m->dict, names[i], v);
        Py_DECREF(v);
        if (rc < 0) {
            Py_DECREF(m);
            return NULL;
        }
    }
    /* inspect.signature() follows __wrapped__. */
    if (PyDict_SetItemString(m->dict, "__wrapped__", fallback) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return (PyObject *)m;
}

/* ex.submit as a value (not called at once): a bound method, which holds
 * the executor as the stdlib's does. */
static PyObject *cm_get(PyObject *m, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(m);
    return PyMethod_New(m, obj);
}

static int cm_traverse(CoreMethodObject *m, visitproc visit, void *arg)
{
    Py_VISIT(m->impl);
    Py_VISIT(m->fallback);
    Py_VISIT(m->dict);
    return 0;
}

static int cm_clear(CoreMethodObject *m)
{
    Py_CLEAR(m->impl);
    Py_CLEAR(m->fallback);
    Py_CLEAR(m->dict);
    return 0;
}

static void cm_dealloc(CoreMethodObject *m)
{
    PyObject_GC_UnTrack(m);
    cm_clear(m);
    Py_TYPE(m)->tp_free((PyObject *)m);
}

static PyObject *cm_repr(CoreMethodObject *m)
{
    return PyUnicode_FromFormat("<gofutures core method %R>", m->fallback);
}

PyTypeObject GfCoreMethod_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gofutures._gofutures.CoreMethod",
    .tp_basicsize = sizeof(CoreMethodObject),
    .tp_dealloc = (destructor)cm_dealloc,
    .tp_vectorcall_offset = offsetof(CoreMethodObject, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_repr = (reprfunc)cm_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
                Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_doc = "CoreMethod(impl, fallback): an executor method forwarding to self._core.",
    .tp_traverse = (traverseproc)cm_traverse,
    .tp_clear = (inquiry)cm_clear,
    .tp_descr_get = cm_get,
    .tp_dictoffset = offsetof(CoreMethodObject, dict),
    .tp_new = cm_new,
};

int gf_coremethod_init(void)
{
    str_core = PyUnicode_InternFromString("_core");
    return str_core ? 0 : -1;
}
