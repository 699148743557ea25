/* The arguments of a vectorcall (args[0..nargs) positional, then one value
 * per name in kwnames) as the tuple and dict that PyObject_Call and pickle
 * want: a pool keeps a call's arguments this way until it runs or pickles
 * it, and result() hands a keyword to PyArg_ParseTupleAndKeywords; and the
 * priority argument both pools' submit_with_priority take first. */
#include "gofutures.h"

PyObject *gf_tuple_from(PyObject *const *items, Py_ssize_t n)
{
    PyObject *t = PyTuple_New(n);
    if (!t)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(t, i, Py_NewRef(items[i]));
    return t;
}

int gf_kwargs_dict(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, PyObject **out)
{
    *out = NULL;
    if (!kwnames || PyTuple_GET_SIZE(kwnames) == 0)
        return 0;
    PyObject *kw = PyDict_New();
    if (!kw)
        return -1;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
        if (PyDict_SetItem(kw, PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0) {
            Py_DECREF(kw);
            return -1;
        }
    }
    *out = kw;
    return 0;
}

/* A task's priority (submit_with_priority): an int in the signed 64-bit
 * range, taken as operator.index() takes it; anything else is a TypeError,
 * an int out of range an OverflowError. */
static int parse_priority(PyObject *o, int64_t *out)
{
    if (!PyIndex_Check(o)) {
        PyErr_Format(PyExc_TypeError, "priority must be an integer, not '%.200s'",
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    PyObject *i = PyNumber_Index(o);
    if (!i)
        return -1;
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(i, &overflow);
    Py_DECREF(i);
    if (overflow) {
        PyErr_Format(PyExc_OverflowError,
                     "priority must fit in a signed 64-bit integer, not %R", o);
        return -1;
    }
    if (v == -1 && PyErr_Occurred())
        return -1;
    *out = v;
    return 0;
}

/* submit_with_priority(priority, fn, /, ...)'s first two arguments, for
 * both pools: *prio from args[0]; -1 with an exception set when fn is
 * missing or the priority is not one. */
int gf_priority_arg(PyObject *const *args, Py_ssize_t nargs, int64_t *prio)
{
    if (nargs < 2) {
        PyErr_SetString(PyExc_TypeError,
                        "submit_with_priority() missing required positional arguments: 'priority' and 'fn'");
        return -1;
    }
    return parse_priority(args[0], prio);
}
