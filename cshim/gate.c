/* Backpressure (gh-73781, gofutures, opt-in): a pool made with max_pending
 * holds at most that many tasks submitted and not yet done. submit() takes a
 * slot of the pool's Go gate (core.Gate) before queueing, waiting for one
 * with the GIL released, interruptibly (gf_block), for at most
 * pending_timeout; past it the stdlib's TimeoutError is raised. The task's
 * Go future gives the slot back on its first move to a done state
 * (core.Future.SetGate): result, exception, cancellation or a broken pool.
 */
#include "gofutures.h"

/* set_gate(max_pending, pending_timeout): the values were checked by the
 * executor (gofutures._backpressure.check). */
PyObject *gf_gate_setup(GfGate *g, PyObject *args)
{
    Py_ssize_t max;
    PyObject *timeout;
    if (!PyArg_ParseTuple(args, "nO:set_gate", &max, &timeout))
        return NULL;
    if (g->h) {
        PyErr_SetString(PyExc_RuntimeError, "the pool has a gate already");
        return NULL;
    }
    if (max < 1) {
        PyErr_SetString(PyExc_ValueError, "max_pending must be None or > 0");
        return NULL;
    }
    if (gf_parse_timeout(timeout, &g->timeout_ns) < 0)
        return NULL;
    g->max = max;
    g->timeout = Py_NewRef(timeout);
    g->h = gf_gate_new(max);
    Py_RETURN_NONE;
}

int gf_gate_enter(GfGate *g)
{
    if (!g->h)
        return 0;
    if (gf_gate_acquire(g->h, 0))   /* room: no GIL hand-off */
        return 0;
    int r = gf_block(gf_gate_acquire, g->h, g->timeout_ns);
    if (r == 0)
        PyErr_Format(gf_TimeoutError, "no room for a new task: %zd pending after %S s",
                     g->max, g->timeout ? g->timeout : Py_None);
    return r == 1 ? 0 : -1;
}

void gf_gate_attach(GfGate *g, uintptr_t fh)
{
    if (g->h)
        gf_fut_set_gate(fh, g->h);
}

void gf_gate_leave(GfGate *g)
{
    if (g->h)
        gf_gate_release(g->h);
}

void gf_gate_clear(GfGate *g)
{
    Py_CLEAR(g->timeout);
    if (g->h && !gf_forked)
        gf_gate_free(g->h);
    g->h = 0;
}
