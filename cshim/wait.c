/* wait() and as_completed(), with the waiting done by the Go core.
 *
 * One core.Waiter covers the whole set: gofutures futures are registered on
 * it in a single call into Go; any other concurrent.futures.Future (the
 * stdlib's, or a subclass from another library) is reached through the
 * stdlib's own protocol: a Bridge object, appended to its _waiters under
 * its _condition, forwards add_result/add_exception/add_cancelled to the Go
 * waiter. The thread then blocks in Go with the GIL released.
 */
#include "gofutures.h"
#include "fork.h"
#include "guard.h"
#include <math.h>

/* ---- Bridge: a stdlib-protocol waiter that reports to a Go waiter ------ */

typedef struct {
    PyObject_HEAD
    uintptr_t wh;     /* borrowed: the Reg that made this bridge owns it */
    int64_t idx;
    int live;
} BridgeObject;

static PyObject *bridge_notify(BridgeObject *b, int outcome)
{
    if (b->live && !gf_forked)
        gf_waiter_notify(b->wh, b->idx, outcome);
    Py_RETURN_NONE;
}
static PyObject *bridge_add_result(PyObject *b, PyObject *f) { return bridge_notify((BridgeObject *)b, OUT_RESULT); }
static PyObject *bridge_add_exception(PyObject *b, PyObject *f) { return bridge_notify((BridgeObject *)b, OUT_EXCEPTION); }
static PyObject *bridge_add_cancelled(PyObject *b, PyObject *f) { return bridge_notify((BridgeObject *)b, OUT_CANCELLED); }

static PyMethodDef bridge_methods[] = {
    {"add_result", bridge_add_result, METH_O, NULL},
    {"add_exception", bridge_add_exception, METH_O, NULL},
    {"add_cancelled", bridge_add_cancelled, METH_O, NULL},
    {NULL}};

PyTypeObject GfBridge_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gofutures._gofutures.Bridge",
    .tp_basicsize = sizeof(BridgeObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Forwards a concurrent.futures.Future's waiter calls to a Go waiter.",
    .tp_methods = bridge_methods,
};

/* ---- Reg: one waiter registered on a whole set -------------------------- */

typedef struct {
    PyObject *items;   /* list of the distinct futures */
    Py_ssize_t n;
    uintptr_t wh;      /* core.Waiter handle, owned */
    uint8_t *already;  /* per item: 0 registered, 1 + outcome if done before */
    int64_t *taken;    /* scratch for gf_waiter_take */
    PyObject *bridges; /* per item: (future, bridge) to remove at close, or None */
} Reg;

/* Takes a foreign future's _condition; *cond is then a new reference,
 * which release_condition() gives back. */
static int with_condition(PyObject *f, PyObject **cond)
{
    *cond = PyObject_GetAttrString(f, "_condition");
    if (!*cond)
        return -1;
    if (gf_cond_acquire(*cond) < 0) {
        Py_CLEAR(*cond);
        return -1;
    }
    return 0;
}

static void release_condition(PyObject *cond)
{
    gf_cond_release(cond, 0);
    Py_DECREF(cond);
}

/* Registers the bridge for a foreign future, or records that it is done. */
static int reg_foreign(Reg *r, Py_ssize_t i)
{
    PyObject *f = PyList_GET_ITEM(r->items, i), *cond, *state = NULL, *waiters = NULL;
    if (with_condition(f, &cond) < 0)
        return -1;
    int rc = -1;
    state = PyObject_GetAttrString(f, "_state");
    if (!state)
        goto out;
    int notified = PyObject_RichCompareBool(state, gf_state_str[ST_FINISHED], Py_EQ);
    int cancelled = notified ? 0 : PyObject_RichCompareBool(state, gf_state_str[ST_CANCELLED_AND_NOTIFIED], Py_EQ);
    if (notified < 0 || cancelled < 0)
        goto out;
    if (cancelled) {
        r->already[i] = 1 + OUT_CANCELLED;
    } else if (notified) {
        PyObject *e = PyObject_GetAttrString(f, "_exception");
        if (!e)
            goto out;
        r->already[i] = 1 + (e != Py_None ? OUT_EXCEPTION : OUT_RESULT);
        Py_DECREF(e);
    } else {
        waiters = PyObject_GetAttrString(f, "_waiters");
        if (!waiters)
            goto out;
        BridgeObject *b = PyObject_New(BridgeObject, &GfBridge_Type);
        if (!b)
            goto out;
        b->wh = r->wh;
        b->idx = i;
        b->live = 1;
        PyObject *pair = Py_BuildValue("(ON)", f, (PyObject *)b);
        if (!pair)
            goto out;
        PyList_SetItem(r->bridges, i, pair);   /* steals pair */
        gf_waiter_add_external(r->wh, 1);   /* counted before it can report */
        PyObject *res = PyObject_CallMethod(waiters, "append", "O", (PyObject *)b);
        if (!res)
            goto out;
        Py_DECREF(res);
    }
    rc = 0;
out:
    Py_XDECREF(state);
    Py_XDECREF(waiters);
    release_condition(cond);
    return rc;
}

/* Silences item i's bridge, takes it out of its future's _waiters and
 * drops the reference to the future it holds. */
static void reg_drop_bridge(Reg *r, Py_ssize_t i)
{
    PyObject *pair = PyList_GET_ITEM(r->bridges, i);
    if (pair == Py_None)
        return;
    PyObject *f = PyTuple_GET_ITEM(pair, 0), *b = PyTuple_GET_ITEM(pair, 1), *cond;
    ((BridgeObject *)b)->live = 0;
    if (with_condition(f, &cond) < 0) {
        PyErr_Clear();
    } else {
        PyObject *ws = PyObject_GetAttrString(f, "_waiters");
        PyObject *res = ws ? PyObject_CallMethod(ws, "remove", "O", b) : NULL;
        Py_XDECREF(res);
        Py_XDECREF(ws);
        PyErr_Clear();
        release_condition(cond);
    }
    PyList_SetItem(r->bridges, i, Py_NewRef(Py_None));   /* frees pair */
}

/* Hands over the reference to item i (as_completed yields it once), so that
 * nothing here keeps a yielded future alive (bpo-14406). */
static PyObject *reg_take_item(Reg *r, Py_ssize_t i)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    reg_drop_bridge(r, i);
    PyErr_Restore(t, v, tb);
    PyObject *f = PyList_GET_ITEM(r->items, i);
    PyList_SET_ITEM(r->items, i, Py_NewRef(Py_None));
    return f;
}

static void reg_close(Reg *r)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    if (r->bridges) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(r->bridges); i++)
            reg_drop_bridge(r, i);
        Py_CLEAR(r->bridges);
    }
    if (r->wh && !gf_forked) {
        gf_waiter_free(r->wh);   /* unregisters from every Go future */
        r->wh = 0;
    }
    PyMem_Free(r->already);
    PyMem_Free(r->taken);
    r->already = NULL;
    r->taken = NULL;
    Py_CLEAR(r->items);
    PyErr_Restore(t, v, tb);
}

/* Dedupes fs as set(fs) does and registers one waiter of the given kind on
 * all of it. */
static int reg_open(Reg *r, PyObject *fs, int kind, PyObject **set_out)
{
    memset(r, 0, sizeof(*r));
    if (gf_fork_guard() < 0)
        return -1;
    PyObject *set = PySet_New(fs);
    if (!set)
        return -1;
    r->items = PySequence_List(set);
    if (!r->items) {
        Py_DECREF(set);
        return -1;
    }
    r->n = PyList_GET_SIZE(r->items);
    r->already = PyMem_Calloc(r->n + 1, 1);
    r->taken = PyMem_Malloc((r->n + 1) * sizeof(int64_t));
    uintptr_t *hs = PyMem_Calloc(r->n + 1, sizeof(uintptr_t));
    r->bridges = PyList_New(r->n);
    for (Py_ssize_t i = 0; r->bridges && i < r->n; i++)
        PyList_SET_ITEM(r->bridges, i, Py_NewRef(Py_None));
    if (!r->already || !r->taken || !hs || !r->bridges) {
        PyMem_Free(hs);
        Py_DECREF(set);
        reg_close(r);
        PyErr_NoMemory();
        return -1;
    }
    int foreign = 0;
    for (Py_ssize_t i = 0; i < r->n; i++) {
        PyObject *f = PyList_GET_ITEM(r->items, i);
        if (!GfFuture_Check(f)) {
            foreign = 1;
            continue;
        }
        FutureObject *g = (FutureObject *)f;
        if (g->final == ST_CANCELLED_AND_NOTIFIED)   /* known done: Go is not asked */
            r->already[i] = 1 + OUT_CANCELLED;
        else if (g->final == ST_FINISHED)
            r->already[i] = 1 + (gf_future_failed(g) ? OUT_EXCEPTION : OUT_RESULT);
        else
            hs[i] = g->h;   /* 0 (skipped by Go) for the others */
    }
    r->wh = gf_waiter_new(kind);
    gf_waiter_register(r->wh, hs, r->n, r->already);   /* one call for the set */
    PyMem_Free(hs);
    if (foreign) {
        for (Py_ssize_t i = 0; i < r->n; i++) {
            if (!GfFuture_Check(PyList_GET_ITEM(r->items, i)) && reg_foreign(r, i) < 0) {
                Py_DECREF(set);
                reg_close(r);
                return -1;
            }
        }
    }
    gf_waiter_arm(r->wh);
    if (set_out)
        *set_out = set;
    else
        Py_DECREF(set);
    return 0;
}

static int waiter_wait(uintptr_t wh, int64_t ns) { return gf_waiter_wait(wh, ns); }

/* ---- wait() ------------------------------------------------------------ */

static int has_exception(PyObject *f)
{
    if (GfFuture_Check(f))
        return gf_future_failed((FutureObject *)f);   /* a process future's may still be bytes in Go */
    return 1;   /* a foreign future reported OUT_EXCEPTION from its _exception */
}

PyObject *gf_wait(PyObject *mod, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"fs", "timeout", "return_when", NULL};
    PyObject *fs, *timeout = Py_None, *return_when = gf_ALL_COMPLETED;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OO:wait", names, &fs, &timeout, &return_when))
        return NULL;
    int kind = -1;
    PyObject *kinds[3] = {gf_FIRST_COMPLETED, gf_FIRST_EXCEPTION, gf_ALL_COMPLETED};
    for (int k = 0; k < 3 && kind < 0; k++) {
        int eq = PyObject_RichCompareBool(return_when, kinds[k], Py_EQ);
        if (eq < 0)
            return NULL;
        if (eq)
            kind = WK_FIRST_COMPLETED + k;
    }

    Reg r;
    PyObject *set = NULL, *done = NULL, *not_done = NULL, *result = NULL;
    if (reg_open(&r, fs, kind < 0 ? WK_ALL_COMPLETED : kind, &set) < 0)
        return NULL;
    /* r.already[i] != 0: item i is done (before the wait, or taken after). */
    Py_ssize_t ndone = 0;
    int any_exc = 0;
    for (Py_ssize_t i = 0; i < r.n; i++) {
        if (!r.already[i])
            continue;
        ndone++;
        if (r.already[i] == 1 + OUT_EXCEPTION && has_exception(PyList_GET_ITEM(r.items, i)))
            any_exc = 1;
    }
    int early = (kind == WK_FIRST_COMPLETED && ndone > 0) ||
                (kind == WK_FIRST_EXCEPTION && any_exc) || ndone == r.n;
    if (!early) {
        if (kind < 0) {
            PyErr_Format(PyExc_ValueError, "Invalid return condition: %R", return_when);
            goto out;
        }
        int64_t ns;
        if (gf_parse_timeout(timeout, &ns) < 0)
            goto out;
        if (gf_block(waiter_wait, r.wh, ns) < 0)
            goto out;
        int64_t k = gf_waiter_take(r.wh, r.taken, r.n + 1);
        for (int64_t j = 0; j < k; j++) {
            if (!r.already[r.taken[j]]) {
                r.already[r.taken[j]] = 1;
                ndone++;
            }
        }
    }
    /* The deduped set made for the call becomes the larger of the two
     * results, minus the other's members: one set is built, not three. */
    int done_is_set = ndone * 2 > r.n;
    PyObject *small = PySet_New(NULL);
    if (!small)
        goto out;
    for (Py_ssize_t i = 0; i < r.n; i++) {
        if ((r.already[i] != 0) == done_is_set)
            continue;
        PyObject *f = PyList_GET_ITEM(r.items, i);
        if (PySet_Add(small, f) < 0 || PySet_Discard(set, f) < 0) {
            Py_DECREF(small);
            goto out;
        }
    }
    done = done_is_set ? set : small;
    not_done = done_is_set ? small : set;
    set = NULL;
    result = PyObject_CallFunctionObjArgs(gf_DoneAndNotDone, done, not_done, NULL);
out:
    reg_close(&r);
    Py_XDECREF(set);
    Py_XDECREF(done);
    Py_XDECREF(not_done);
    return result;
}

/* ---- as_completed() ---------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    GfGuard guard;       /* busy: a next() or close() runs; closed: ended */
    PyObject *fs;        /* the argument, until the first next() */
    PyObject *timeout;
    int started;         /* the first next() registered the waiter */
    double end_time;     /* monotonic seconds; < 0: no timeout */
    Reg reg;
    PyObject *ready;     /* futures to yield, in order */
    Py_ssize_t ready_pos;
    Py_ssize_t pending;  /* members not yet notified */
} AsCompletedObject;

PyObject *gf_as_completed(PyObject *mod, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"fs", "timeout", NULL};
    PyObject *fs, *timeout = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:as_completed", names, &fs, &timeout))
        return NULL;
    AsCompletedObject *it = PyObject_GC_New(AsCompletedObject, &GfAsCompleted_Type);
    if (!it)
        return NULL;
    it->fs = Py_NewRef(fs);
    it->timeout = Py_NewRef(timeout);
    it->guard = (GfGuard){0, 0};
    it->started = 0;
    it->end_time = -1;
    memset(&it->reg, 0, sizeof(it->reg));
    it->ready = NULL;
    it->ready_pos = 0;
    it->pending = 0;
    PyObject_GC_Track(it);
    return (PyObject *)it;
}

/* Frees what an iteration holds: the Go waiter (unregistered from every
 * future), the bridges, the futures. Only under the guard's busy flag, by
 * the one next() or close() that owns the iterator at that moment (freeing
 * runs Python code -- a foreign future's _condition and _waiters -- which
 * may release the GIL: another thread's next() or close() then gets the
 * generator's ValueError, as while a generator runs its finally clause).
 * Idempotent. */
static void ac_free(AsCompletedObject *it)
{
    reg_close(&it->reg);
    Py_CLEAR(it->ready);
    Py_CLEAR(it->fs);
}

/* Like the stdlib's generator, the set is built and the clock started at
 * the first next(). */
static int ac_start(AsCompletedObject *it)
{
    if (it->timeout != Py_None) {
        PyObject *now = PyFloat_FromDouble(gf_now_ns() / 1e9);
        PyObject *end = now ? PyNumber_Add(it->timeout, now) : NULL;
        Py_XDECREF(now);
        if (!end)
            return -1;
        it->end_time = PyFloat_AsDouble(end);
        Py_DECREF(end);
        if (it->end_time == -1.0 && PyErr_Occurred())
            return -1;
        if (it->end_time < 0)
            it->end_time = 0;
    }
    if (reg_open(&it->reg, it->fs, WK_AS_COMPLETED, NULL) < 0)
        return -1;
    Py_CLEAR(it->fs);
    it->started = 1;   /* registered: a later next() does not register again */
    it->ready = PyList_New(0);
    if (!it->ready)
        return -1;
    for (Py_ssize_t i = 0; i < it->reg.n; i++) {
        if (it->reg.already[i]) {
            PyObject *f = reg_take_item(&it->reg, i);
            int rc = PyList_Append(it->ready, f);
            Py_DECREF(f);
            if (rc < 0)
                return -1;
        } else {
            it->pending++;
        }
    }
    return 0;
}

static PyObject *ac_next_body(AsCompletedObject *it);

/* As a generator's next(): refused while another next() or close() runs
 * (ValueError), StopIteration once closed. The body may release the GIL and
 * run Python code; whatever ends the iteration meanwhile (the body itself,
 * or a tp_clear, which cannot happen while we hold our reference) only sets
 * closed, and the Go waiter is freed here, before the guard is left. */
static PyObject *ac_next(AsCompletedObject *it)
{
    if (gf_guard_enter(&it->guard) <= 0)
        return NULL;
    Py_INCREF(it);   /* no dealloc or tp_clear under a running next() */
    PyObject *r = ac_next_body(it);
    if (it->guard.closed)
        ac_free(it);
    gf_guard_leave(&it->guard);
    Py_DECREF(it);
    return r;
}

/* Runs under the guard; on StopIteration or an error it sets closed
 * (ac_next frees). */
static PyObject *ac_next_body(AsCompletedObject *it)
{
    if (!it->started && ac_start(it) < 0)
        goto fail;
    if (gf_fork_guard() < 0)   /* an iterator started before fork() */
        goto fail;
    for (;;) {
        if (it->ready_pos < PyList_GET_SIZE(it->ready)) {
            PyObject *f = PyList_GET_ITEM(it->ready, it->ready_pos);
            Py_INCREF(f);
            /* Drop our reference so a yielded future can be freed early. */
            PyList_SET_ITEM(it->ready, it->ready_pos, Py_NewRef(Py_None));
            Py_DECREF(f);
            it->ready_pos++;
            return f;
        }
        if (it->pending == 0)
            goto fail;   /* exhausted: StopIteration */
        int64_t ns = GF_NO_TIMEOUT;
        if (it->end_time >= 0) {
            double rem = it->end_time - gf_now_ns() / 1e9;
            if (rem < 0) {
                PyErr_Format(gf_TimeoutError, "%zd (of %zd) futures unfinished",
                             it->pending, it->reg.n);
                goto fail;
            }
            if (isnan(rem)) {
                ns = GF_NO_TIMEOUT;   /* NaN never times out (the stdlib polls until done) */
            } else {
                /* As the stdlib's event.wait(rem): inf or huge raises OverflowError. */
                PyObject *r = PyFloat_FromDouble(rem);
                int rc = r ? gf_parse_timeout(r, &ns) : -1;
                Py_XDECREF(r);
                if (rc < 0)
                    goto fail;
            }
        }
        if (gf_block(waiter_wait, it->reg.wh, ns) < 0)
            goto fail;
        int64_t k = gf_waiter_take(it->reg.wh, it->reg.taken, it->reg.n + 1);
        if (k > 0) {
            /* Start a fresh ready list with what just completed, in order. */
            PyObject *nl = PyList_New(k);
            if (!nl)
                goto fail;
            for (int64_t j = 0; j < k; j++)
                PyList_SET_ITEM(nl, j, reg_take_item(&it->reg, it->reg.taken[j]));
            Py_SETREF(it->ready, nl);
            it->ready_pos = 0;
            it->pending -= k;
        }
    }
fail:
    it->guard.closed = 1;
    return NULL;
}

/* As a generator's close(): refused while a next() runs, from another
 * thread or from code that next() runs; a no-op once closed. */
static PyObject *ac_close(AsCompletedObject *it, PyObject *unused)
{
    int r = gf_guard_close(&it->guard);
    if (r < 0)
        return NULL;
    if (r > 0) {
        ac_free(it);
        gf_guard_leave(&it->guard);
    }
    Py_RETURN_NONE;
}

static int ac_traverse(AsCompletedObject *it, visitproc visit, void *arg)
{
    Py_VISIT(it->fs);
    Py_VISIT(it->timeout);
    Py_VISIT(it->reg.items);
    Py_VISIT(it->reg.bridges);
    Py_VISIT(it->ready);
    return 0;
}

/* The cycle collector's clear and dealloc. A running next() holds a
 * reference, so neither runs under one; should it, the Go waiter is left
 * for that next() to free (gf_guard_close_later), never freed under it. */
static int ac_clear(AsCompletedObject *it)
{
    if (gf_guard_close_later(&it->guard)) {
        ac_free(it);
        gf_guard_leave(&it->guard);
    }
    Py_CLEAR(it->timeout);
    return 0;
}

static void ac_dealloc(AsCompletedObject *it)
{
    PyObject_GC_UnTrack(it);
    ac_clear(it);
    PyObject_GC_Del(it);
}

static PyMethodDef ac_methods[] = {
    {"close", (PyCFunction)ac_close, METH_NOARGS, "Stop waiting and release the futures."},
    {NULL}};

PyTypeObject GfAsCompleted_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gofutures._gofutures.as_completed_iterator",
    .tp_basicsize = sizeof(AsCompletedObject),
    .tp_dealloc = (destructor)ac_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)ac_traverse,
    .tp_clear = (inquiry)ac_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)ac_next,
    .tp_methods = ac_methods,
};
