/* GfGuard: the busy/closed guard of the C iterators (as_completed, map).
 *
 * A next() of these iterators runs arbitrary Python code (a foreign
 * future's _condition and _waiters, __hash__, submit(), result()) and
 * releases the GIL while it waits, so another thread -- or that code
 * itself -- may call next() or close() on the same iterator meanwhile. The
 * stdlib's versions are generators, which refuse: ValueError('generator
 * already executing'). The guard gives the C iterators the same rule, and
 * with it one rule for their memory: what next() uses (a Go waiter handle,
 * the lists it indexes) is freed only while no next() runs.
 *
 *   next():   gf_guard_enter -- -1: refused (ValueError set); 0: closed,
 *             return NULL (StopIteration); 1: run the body, then
 *             gf_guard_leave. A body that ends the iteration may set closed
 *             (as_completed's does); next() then frees what it holds before
 *             it leaves.
 *   close():  gf_guard_close -- -1: refused; 0: closed already, a no-op;
 *             1: free, then gf_guard_leave. The guard stays busy while
 *             freeing (which may run Python code), as a generator executes
 *             its finally clause inside close().
 *   tp_clear, dealloc: gf_guard_close_later -- 1: free, then
 *             gf_guard_leave; 0: a next() runs and will free on its way
 *             out (not reachable while next() holds its reference to the
 *             iterator; a second line of defence, never a free under it).
 *
 * Every field is read and written with the GIL held, which orders them (the
 * extension does not declare Py_mod_gil, so there is always a GIL). A next()
 * must hold a strong reference to its iterator while it runs: then neither
 * dealloc nor the cycle collector's tp_clear can run under it.
 */
#ifndef GOFUTURES_GUARD_H
#define GOFUTURES_GUARD_H

#include <Python.h>

typedef struct {
    unsigned char busy;     /* a next() runs, or a close() frees */
    unsigned char closed;   /* closed, exhausted or failed: next() stops */
} GfGuard;

static inline int gf_guard_refuse_if_busy(GfGuard *g)
{
    if (!g->busy)
        return 0;
    PyErr_SetString(PyExc_ValueError, "generator already executing");
    return -1;
}

static inline int gf_guard_enter(GfGuard *g)
{
    if (gf_guard_refuse_if_busy(g) < 0)
        return -1;
    if (g->closed)
        return 0;
    g->busy = 1;
    return 1;
}

static inline void gf_guard_leave(GfGuard *g) { g->busy = 0; }

static inline int gf_guard_close(GfGuard *g)
{
    if (gf_guard_refuse_if_busy(g) < 0)
        return -1;
    if (g->closed)
        return 0;
    g->closed = 1;
    g->busy = 1;
    return 1;
}

static inline int gf_guard_close_later(GfGuard *g)
{
    g->closed = 1;
    if (g->busy)
        return 0;
    g->busy = 1;
    return 1;
}

#endif
