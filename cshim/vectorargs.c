/* The arguments of a vectorcall (args[0..nargs) positional, then one value
 * per name in kwnames) as the tuple and dict that PyObject_Call and pickle
 * want: a pool keeps a call's arguments this way until it runs or pickles
 * it, and result() hands a keyword to PyArg_ParseTupleAndKeywords. */
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
