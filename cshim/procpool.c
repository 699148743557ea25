/* ProcPool: the C half of gofutures.ProcessPoolExecutor.
 *
 * The dispatcher is Go (core.ProcPool behind self->ph): the task queue, the
 * pipes to the worker processes and their framing, in-flight bookkeeping,
 * result demultiplexing and worker-death detection all run in goroutines
 * that never touch Python. Results stay in Go as pickled bytes until a
 * Python thread asks a future for them (gf_future_materialize).
 *
 * What needs Python is done here, with the GIL:
 *  - submit: pickle the call with multiprocessing's ForkingPickler (what the
 *    stdlib's queues use) and hand the bytes to Go;
 *  - serve: the body of the pool's service thread, a threading.Thread that
 *    blocks in Go with the GIL released and wakes only for events: run the
 *    done-callbacks of futures Go completed, start or join worker processes
 *    (through the Python controller `ctl`, which uses the multiprocessing
 *    context), terminate workers when the pool broke.
 */
#include "gofutures.h"
#include "structmember.h"

typedef struct {
    PyObject_HEAD
    uintptr_t ph;          /* core.ProcPool handle, owned */
    PyObject *ctl;         /* controller: spawn(n), reap(pid), broken(), exited(pid) */
    PyObject *processes;   /* dict: pid -> multiprocessing.Process */
    PyObject *weakreflist;
    GfGate gate;           /* backpressure (gate.c); gate.h 0: none */
    int64_t task_timeout_ns;   /* submit()'s limit (task_timeout=), 0: none */
} ProcPoolObject;

static const char FUTURE_BROKEN[] =
    "A process in the process pool was terminated abruptly while the future was running or pending.";
static const char SUBMIT_BROKEN[] =
    "A child process terminated abruptly, the process pool is not usable anymore";


/* Looked up when the first process pool is made (they import multiprocessing). */
static PyObject *pickle_loads, *fp_dumps, *BrokenProcessPool, *RemoteTraceback, *format_exception;

static int lookups(void)
{
    if (format_exception)
        return 0;
    PyObject *pickle = PyImport_ImportModule("pickle");
    PyObject *red = pickle ? PyImport_ImportModule("multiprocessing.reduction") : NULL;
    PyObject *proc = red ? PyImport_ImportModule("concurrent.futures.process") : NULL;
    PyObject *tb = proc ? PyImport_ImportModule("traceback") : NULL;
    PyObject *fp = red ? PyObject_GetAttrString(red, "ForkingPickler") : NULL;
    if (tb && fp) {
        pickle_loads = PyObject_GetAttrString(pickle, "loads");
        fp_dumps = PyObject_GetAttrString(fp, "dumps");
        BrokenProcessPool = PyObject_GetAttrString(proc, "BrokenProcessPool");
        RemoteTraceback = PyObject_GetAttrString(proc, "_RemoteTraceback");
        format_exception = PyObject_GetAttrString(tb, "format_exception");
    }
    Py_XDECREF(pickle);
    Py_XDECREF(red);
    Py_XDECREF(proc);
    Py_XDECREF(tb);
    Py_XDECREF(fp);
    if (!pickle_loads || !fp_dumps || !BrokenProcessPool || !RemoteTraceback || !format_exception) {
        Py_CLEAR(format_exception);
        return -1;
    }
    return 0;
}

/* The current exception's traceback text, as the stdlib formats it; clears
 * the exception. Returns NULL (and clears) if even that fails. */
static PyObject *format_current(PyObject **exc_out)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (v && tb)
        PyException_SetTraceback(v, tb);
    PyObject *lines = v ? PyObject_CallFunctionObjArgs(format_exception, t, v, tb ? tb : Py_None, NULL) : NULL;
    PyObject *empty = lines ? PyUnicode_FromString("") : NULL;
    PyObject *text = empty ? PyUnicode_Join(empty, lines) : NULL;
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    PyErr_Clear();
    Py_XDECREF(t);
    Py_XDECREF(tb);
    if (exc_out)
        *exc_out = v;
    else
        Py_XDECREF(v);
    return text;
}

/* Sets exc.__cause__ = _RemoteTraceback(quote + text + quote) where quote
 * is "\n'''\n" or '\n"""\n' as the stdlib writes each case. Best effort: an
 * ordinary error leaves exc without a cause. But _RemoteTraceback's
 * __init__ is Python code, where a signal handler may run: its
 * KeyboardInterrupt (any BaseException that is not an Exception) is kept
 * set and -1 returned, so that the caller gives it up instead of the
 * future's value: a Ctrl-C is never swallowed here. */
static int set_remote_cause(PyObject *exc, PyObject *text, const char *q)
{
    if (!exc || !text)
        return 0;
    PyObject *msg = PyUnicode_FromFormat("\n%s\n%U%s", q, text, q);
    PyObject *rt = msg ? PyObject_CallOneArg(RemoteTraceback, msg) : NULL;
    Py_XDECREF(msg);
    if (rt)
        PyException_SetCause(exc, rt);   /* steals rt */
    if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_Exception))
        return -1;
    PyErr_Clear();
    return 0;
}

/* Turns the bytes a worker sent (tag + pickle; see core.Tag*) into the
 * future's value (GF_TAG_*, abi.h). Called by gf_future_materialize with
 * the GIL. */
PyObject *gf_procpool_decode(PyObject *raw, PyObject *pool, FutureObject *f)
{
    if (lookups() < 0)
        return NULL;
    const char *p = PyBytes_AS_STRING(raw);
    Py_ssize_t n = PyBytes_GET_SIZE(raw);
    if (p[0] == GF_TAG_TIMEOUT) {
        PyObject *msg = PyUnicode_DecodeUTF8(p + 1, n - 1, "replace");
        PyObject *e = msg ? PyObject_CallOneArg(gf_TimeoutError, msg) : NULL;
        Py_XDECREF(msg);
        return e;
    }
    if (p[0] == GF_TAG_BROKEN) {
        PyObject *e = PyObject_CallFunction(BrokenProcessPool, "s", FUTURE_BROKEN);
        if (e && n > 1) {
            PyObject *text = PyUnicode_DecodeUTF8(p + 1, n - 1, "replace");
            if (set_remote_cause(e, text, "'''") < 0)
                Py_CLEAR(e);   /* Ctrl-C meanwhile: the bytes stay for the next read */
            Py_XDECREF(text);
        }
        return e;
    }
    if (p[0] == GF_TAG_BROKEN_MSG) {   /* message NUL cause */
        const char *nul = memchr(p + 1, 0, n - 1);
        Py_ssize_t m = nul ? nul - (p + 1) : n - 1;
        PyObject *msg = PyUnicode_DecodeUTF8(p + 1, m, "replace");
        PyObject *e = msg ? PyObject_CallOneArg(BrokenProcessPool, msg) : NULL;
        Py_XDECREF(msg);
        if (e && nul && n - 2 - m > 0) {
            PyObject *text = PyUnicode_DecodeUTF8(nul + 1, n - 2 - m, "replace");
            if (set_remote_cause(e, text, "'''") < 0)
                Py_CLEAR(e);
            Py_XDECREF(text);
        }
        return e;
    }
    PyObject *mv = PyMemoryView_FromMemory((char *)p + 1, n - 1, PyBUF_READ);
    if (!mv)
        return NULL;
    PyObject *v = PyObject_CallOneArg(pickle_loads, mv);
    Py_DECREF(mv);
    if (v)
        return v;
    /* A Ctrl-C while the result was unpickled (a signal handler runs in
     * Python code here, never in the stdlib's result thread): the
     * interrupt, not a broken pool; the bytes stay for the next read. */
    if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
        return NULL;
    /* The bytes cannot be unpickled here: the stdlib's result handler then
     * breaks the pool, and every pending future (this one too) gets
     * BrokenProcessPool with the error as its cause. */
    PyObject *text = format_current(NULL);
    PyObject *e = PyObject_CallFunction(BrokenProcessPool, "s", FUTURE_BROKEN);
    if (set_remote_cause(e, text, "'''") < 0)
        Py_CLEAR(e);
    Py_XDECREF(text);
    if (!e)
        return NULL;
    /* Go's failed flag only: the state stays FINISHED, and what the stdlib's
     * protocol has seen is left to publish() (gf_future_force would mark
     * it seen, and its waiters would never be told). */
    gf_fut_force(f->h, GF_ST_FINISHED, 1);
    if (pool && Py_IS_TYPE(pool, &GfProcPool_Type))
        gf_proc_break(((ProcPoolObject *)pool)->ph);
    return e;
}

static PyObject *pp_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *names[] = {"max_workers", "max_tasks_per_child", "prefetch", "ctl", NULL};
    Py_ssize_t max, max_tasks, prefetch;
    PyObject *ctl;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "nnnO:ProcPool", names, &max, &max_tasks, &prefetch, &ctl))
        return NULL;
    if (lookups() < 0)
        return NULL;
    ProcPoolObject *p = (ProcPoolObject *)type->tp_alloc(type, 0);
    if (!p)
        return NULL;
    p->processes = PyDict_New();
    if (!p->processes) {
        Py_DECREF(p);
        return NULL;
    }
    p->ctl = Py_NewRef(ctl);
    p->ph = gf_proc_new(max, max_tasks, prefetch);
    return (PyObject *)p;
}

static int pp_traverse(ProcPoolObject *p, visitproc visit, void *arg)
{
    Py_VISIT(p->ctl);
    Py_VISIT(p->processes);
    Py_VISIT(p->gate.timeout);
    return 0;
}

static int pp_clear(ProcPoolObject *p)
{
    Py_CLEAR(p->ctl);
    Py_CLEAR(p->processes);
    Py_CLEAR(p->gate.timeout);
    return 0;
}

static void pp_dealloc(ProcPoolObject *p)
{
    PyObject_GC_UnTrack(p);
    if (p->weakreflist)
        PyObject_ClearWeakRefs((PyObject *)p);
    pp_clear(p);
    gf_gate_clear(&p->gate);
    if (p->ph && !gf_forked) {
        /* Nothing can reach the pool any more (its service thread held a
         * reference while it ran): let Go stop what is left. */
        gf_proc_shutdown(p->ph, 1);
        gf_proc_free(p->ph);
    }
    p->ph = 0;
    Py_TYPE(p)->tp_free((PyObject *)p);
}

/* BrokenProcessPool(SUBMIT_BROKEN), with the cause Go recorded (which
 * worker died, and how) as its __cause__. */
static void set_broken(ProcPoolObject *p)
{
    char buf[512];
    int64_t n = gf_proc_cause(p->ph, buf, sizeof buf);
    PyObject *e = PyObject_CallFunction(BrokenProcessPool, "s", SUBMIT_BROKEN);
    if (!e)
        return;
    if (n > 0) {
        PyObject *text = PyUnicode_DecodeUTF8(buf, n < (int64_t)sizeof buf ? n : (int64_t)sizeof buf, "replace");
        int rc = set_remote_cause(e, text, "'''");
        Py_XDECREF(text);
        if (rc < 0) {   /* Ctrl-C meanwhile: that is what submit raises */
            Py_DECREF(e);
            return;
        }
    }
    PyErr_SetObject(BrokenProcessPool, e);
    Py_DECREF(e);
}

static PyObject *do_submit(ProcPoolObject *p, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames, int64_t timeout_ns, int64_t prio);
static PyObject *submit_call(ProcPoolObject *p, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames, int64_t timeout_ns, int64_t prio, int *queued);

static PyObject *pp_submit(ProcPoolObject *p, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return do_submit(p, args, nargs, kwnames, p->task_timeout_ns, 0);
}

static int64_t timeout_ns(PyObject *timeout)
{
    double secs = PyFloat_AsDouble(timeout);
    if (secs == -1.0 && PyErr_Occurred())
        return -1;
    if (!(secs > 0) || secs > 1e9) {
        PyErr_Format(PyExc_ValueError, "timeout must be a positive number of seconds, not %R", timeout);
        return -1;
    }
    int64_t ns = (int64_t)(secs * 1e9);
    return ns > 0 ? ns : 1;
}

/* set_task_timeout(seconds): the executor's task_timeout, for submit() and
 * submit_with_priority(). */
static PyObject *pp_set_task_timeout(ProcPoolObject *p, PyObject *timeout)
{
    int64_t ns = timeout_ns(timeout);
    if (ns < 0)
        return NULL;
    p->task_timeout_ns = ns;
    Py_RETURN_NONE;
}

/* submit_with_priority(priority, fn, /, *args, **kwargs): the priority
 * comes before fn, positionally, so it can never collide with a keyword
 * argument of fn's own; the call honours the executor's task_timeout. Bad
 * input submits nothing. */
static PyObject *pp_submit_priority(ProcPoolObject *p, PyObject *const *args, Py_ssize_t nargs,
                                    PyObject *kwnames)
{
    int64_t prio;
    if (gf_priority_arg(args, nargs, &prio) < 0)
        return NULL;
    return do_submit(p, args + 1, nargs - 1, kwnames, p->task_timeout_ns, prio);
}

/* submit_with_timeout(timeout, fn, /, *args, **kwargs): the timeout comes
 * before fn, positionally, so it can never collide with a keyword argument
 * of fn's own. */
static PyObject *pp_submit_timeout(ProcPoolObject *p, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames)
{
    if (nargs < 2) {
        PyErr_SetString(PyExc_TypeError,
                        "submit_with_timeout() missing required positional arguments: 'timeout' and 'fn'");
        return NULL;
    }
    int64_t ns = timeout_ns(args[0]);
    if (ns < 0)
        return NULL;
    return do_submit(p, args + 1, nargs - 1, kwnames, ns, 0);
}

static PyObject *do_submit(ProcPoolObject *p, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames, int64_t timeout_ns, int64_t prio)
{
    if (gf_fork_guard() < 0)
        return NULL;
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError,
#if PY_VERSION_HEX >= 0x030A0000
                        "ProcessPoolExecutor.submit() missing 1 required positional argument: 'fn'"
#else
                        "submit() missing 1 required positional argument: 'fn'"
#endif
        );
        return NULL;
    }
    int flags = gf_proc_flags(p->ph);   /* checked before pickling, as the stdlib does */
    if (flags & GF_FLAG_BROKEN) {
        set_broken(p);
        return NULL;
    }
    if (flags & GF_FLAG_SHUTDOWN) {   /* at exit too: the exit hook shuts pools down first, as the stdlib's does */
        PyErr_SetString(PyExc_RuntimeError, "cannot schedule new futures after shutdown");
        return NULL;
    }
    if (gf_interpreter_shutdown) {
        PyErr_SetString(PyExc_RuntimeError, "cannot schedule new futures after interpreter shutdown");
        return NULL;
    }
    if (gf_gate_enter(&p->gate) < 0)   /* may wait for room (max_pending) */
        return NULL;
    int queued = 0;
    PyObject *f = submit_call(p, args, nargs, kwnames, timeout_ns, prio, &queued);
    if (!queued)
        gf_gate_leave(&p->gate);   /* not queued (or failed to pickle: done already) */
    return f;
}

/* The rest of submit: pickles the call and queues it. *queued = 1 once Go
 * holds the task, whose future then holds the gate's slot. */
static PyObject *submit_call(ProcPoolObject *p, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames, int64_t timeout_ns, int64_t prio, int *queued)
{
    /* The call travels as a pickle of (fn, args, kwargs or None). */
    PyObject *a = gf_tuple_from(args + 1, nargs - 1), *kw;
    if (!a || gf_kwargs_dict(args, nargs, kwnames, &kw) < 0) {
        Py_XDECREF(a);
        return NULL;
    }
    PyObject *call = Py_BuildValue("(ONN)", args[0], a, kw ? kw : Py_NewRef(Py_None));
    if (!call)
        return NULL;

    FutureObject *f = gf_future_alloc();
    if (!f) {
        Py_DECREF(call);
        return NULL;
    }
    f->remote = 1;
    f->pool = Py_NewRef((PyObject *)p);
    PyObject *data = PyObject_CallOneArg(fp_dumps, call);
    Py_DECREF(call);
    if (!data) {
        /* As the stdlib's queue feeder does: the future fails with the
         * pickling error, whose cause carries its traceback; the pool
         * stays usable. */
        PyObject *exc = NULL;
        PyObject *text = format_current(&exc);
        int cause_rc = set_remote_cause(exc, text, "\"\"\"");
        Py_XDECREF(text);
        int rc = exc && cause_rc == 0 ? gf_future_finish(f, NULL, exc) : -1;
        Py_XDECREF(exc);
        if (rc < 0) {
            Py_DECREF(f);
            return NULL;
        }
        return (PyObject *)f;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        Py_DECREF(data);
        Py_DECREF(f);
        return NULL;
    }
    int rc = gf_proc_submit(p->ph, f->h, view.buf, view.len, timeout_ns, prio);   /* Go copies the bytes */
    PyBuffer_Release(&view);
    Py_DECREF(data);
    if (rc < 0) {
        if (rc == GF_SUBMIT_BROKEN)
            set_broken(p);
        else
            PyErr_SetString(PyExc_RuntimeError, "cannot schedule new futures after shutdown");
        Py_DECREF(f);
        return NULL;
    }
    *queued = 1;
    gf_gate_attach(&p->gate, f->h);
    if (rc == GF_SUBMIT_SPAWN) {
        /* Start a worker process; the controller gives the start back to Go
         * (spawn_failed) if it fails, and the task stays queued. */
        PyObject *r = PyObject_CallMethod(p->ctl, "spawn", "n", (Py_ssize_t)1);
        if (!r) {
            Py_DECREF(f);
            return NULL;
        }
        Py_DECREF(r);
    }
    return (PyObject *)f;
}

static void call_ctl(ProcPoolObject *p, const char *method, PyObject *arg)
{
    if (!p->ctl)
        return;
    PyObject *r = PyObject_CallMethod(p->ctl, method, "O", arg);
    if (r) {
        Py_DECREF(r);
        return;
    }
    PyObject *name = PyUnicode_FromString(method);
    gf_log_current_exception("Exception in the process pool's service thread (%s)",
                             name ? name : Py_None);
    Py_XDECREF(name);
}

#define NEV 64

/* The service thread's body: returns once the pool is shut down (or broken)
 * and every worker has been joined. */
static PyObject *pp_serve(ProcPoolObject *p, PyObject *unused)
{
    if (gf_fork_guard() < 0)
        return NULL;
    gf_event ev[NEV];
    int done = 0;
    int64_t timeout = -1;
    for (;;) {
        int64_t n;
        Py_BEGIN_ALLOW_THREADS
        n = gf_proc_events(p->ph, timeout, ev, NEV);   /* parks in Go */
        Py_END_ALLOW_THREADS
        if (n == 0 && done)
            break;
        for (int64_t i = 0; i < n; i++) {
            PyObject *arg;
            switch (ev[i].kind) {
            case GF_EV_DELIVER: {
                /* Go gives back the reference that listen() gave it. */
                FutureObject *f = (FutureObject *)ev[i].owner;
                gf_future_deliver(f);
                Py_DECREF(f);
                break;
            }
            case GF_EV_SPAWN:
                arg = PyLong_FromLongLong(ev[i].n);
                if (arg) call_ctl(p, "spawn", arg);
                Py_XDECREF(arg);
                break;
            case GF_EV_REAP:
                arg = PyLong_FromUnsignedLongLong(ev[i].worker);
                if (arg) call_ctl(p, "reap", arg);
                Py_XDECREF(arg);
                break;
            case GF_EV_BROKEN:
                call_ctl(p, "broken", Py_None);
                break;
            case GF_EV_EXITED:
                arg = PyLong_FromUnsignedLongLong(ev[i].worker);
                if (arg) call_ctl(p, "exited", arg);
                Py_XDECREF(arg);
                break;
            case GF_EV_DONE:
                done = 1;
                timeout = 0;   /* drain what is left, then leave */
                break;
            }
            PyErr_Clear();
        }
    }
    Py_RETURN_NONE;
}

static PyObject *pp_add_worker(ProcPoolObject *p, PyObject *args)
{
    if (gf_fork_guard() < 0)
        return NULL;
    PyObject *process;
    int task_w, result_r;
    if (!PyArg_ParseTuple(args, "Oii:add_worker", &process, &task_w, &result_r))
        return NULL;
    PyObject *pid = PyObject_GetAttrString(process, "pid");
    if (!pid)
        return NULL;
    long v = PyLong_AsLong(pid);
    if (v == -1 && PyErr_Occurred()) {
        Py_DECREF(pid);
        return NULL;
    }
    /* Recorded before Go can report the worker gone: the GIL is held from
     * here to the insertion. */
    gf_proc_add_worker(p->ph, (int)v, task_w, result_r);
    int rc = PyDict_SetItem(p->processes, pid, process);
    Py_DECREF(pid);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *pp_spawn_failed(ProcPoolObject *p, PyObject *unused)
{
    if (gf_fork_guard() < 0)
        return NULL;
    gf_proc_spawn_failed(p->ph);
    Py_RETURN_NONE;
}

/* exit_cause(pid, text): the answer to GF_EV_EXITED (Go waits for it). */
static PyObject *pp_exit_cause(ProcPoolObject *p, PyObject *args)
{
    long long pid;
    const char *text;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "Ls#:exit_cause", &pid, &text, &n))
        return NULL;
    if (!gf_forked)
        gf_proc_exit_cause(p->ph, pid, (void *)text, n);   /* Go copies the bytes */
    Py_RETURN_NONE;
}

/* spawn_refused(message): give back a reserved start the controller
 * declined; message is the futures' if the pool breaks for it. */
static PyObject *pp_spawn_refused(ProcPoolObject *p, PyObject *arg)
{
    if (gf_fork_guard() < 0)
        return NULL;
    Py_ssize_t n;
    const char *msg = PyUnicode_AsUTF8AndSize(arg, &n);
    if (!msg)
        return NULL;
    gf_proc_spawn_refused(p->ph, (void *)msg, n);
    Py_RETURN_NONE;
}

static PyObject *pp_reserve(ProcPoolObject *p, PyObject *arg)
{
    if (gf_fork_guard() < 0)
        return NULL;
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    return PyLong_FromLongLong(gf_proc_reserve(p->ph, n));
}

static PyObject *pp_shutdown(ProcPoolObject *p, PyObject *cancel)
{
    if (gf_forked)
        Py_RETURN_NONE;   /* a forked child: the pool is the parent's (fork.h) */
    int c = PyObject_IsTrue(cancel);
    if (c < 0)
        return NULL;
    gf_proc_shutdown(p->ph, c);
    Py_RETURN_NONE;
}

static PyObject *pp_break(ProcPoolObject *p, PyObject *unused)
{
    if (gf_fork_guard() < 0)
        return NULL;
    gf_proc_break(p->ph);
    Py_RETURN_NONE;
}

static int wait_done(uintptr_t h, int64_t ns) { return gf_proc_wait_done(h, ns); }

/* wait_done(timeout=None): blocks (interruptibly) until the pool is shut
 * down or broken with no worker left; returns whether it is. */
static PyObject *pp_wait_done(ProcPoolObject *p, PyObject *const *args, Py_ssize_t nargs)
{
    int64_t ns = GF_NO_TIMEOUT;
    if (gf_fork_guard() < 0)
        return NULL;
    if (nargs > 0 && gf_parse_timeout(args[0], &ns) < 0)
        return NULL;
    int r = gf_block(wait_done, p->ph, ns);
    if (r < 0)
        return NULL;
    return PyBool_FromLong(r);
}

static PyObject *pp_counts(ProcPoolObject *p, PyObject *unused)
{
    if (gf_fork_guard() < 0)
        return NULL;
    int64_t q, inf, w, done, flags;
    gf_proc_counts(p->ph, &q, &inf, &w, &done, &flags);
    return Py_BuildValue("{sLsLsLsLsOsO}", "queued", (long long)q, "in_flight", (long long)inf,
                         "workers", (long long)w, "completed", (long long)done,
                         "shutdown", (flags & GF_FLAG_SHUTDOWN) ? Py_True : Py_False,
                         "broken", (flags & GF_FLAG_BROKEN) ? Py_True : Py_False);
}

static PyObject *pp_stats_id(ProcPoolObject *p, PyObject *unused)
{
    if (gf_fork_guard() < 0)
        return NULL;
    return PyLong_FromLongLong(gf_proc_stats_id(p->ph));
}

static PyObject *pp_set_gate(ProcPoolObject *p, PyObject *args)
{
    return gf_gate_setup(&p->gate, args);
}

static PyMethodDef pp_methods[] = {
    {"stats_id", (PyCFunction)pp_stats_id, METH_NOARGS,
     "The pool's id in the statistics registry (gofutures._stats)."},
    {"set_gate", (PyCFunction)pp_set_gate, METH_VARARGS,
     "set_gate(max_pending, pending_timeout): backpressure on submit (gate.c)."},
    {"submit", (PyCFunction)(void (*)(void))pp_submit, METH_FASTCALL | METH_KEYWORDS,
     "submit(fn, /, *args, **kwargs)\n--\n\nSchedules fn(*args, **kwargs) in a worker process."},
    {"set_task_timeout", (PyCFunction)pp_set_task_timeout, METH_O,
     "set_task_timeout(seconds): the limit submit() gives each call (task_timeout=)."},
    {"submit_with_timeout", (PyCFunction)(void (*)(void))pp_submit_timeout, METH_FASTCALL | METH_KEYWORDS,
     "submit_with_timeout(timeout, fn, /, *args, **kwargs)\n--\n\n"
     "Like submit(), but the call may run at most timeout seconds: past it, its\n"
     "worker process is killed and replaced, and the future fails with TimeoutError."},
    {"submit_with_priority", (PyCFunction)(void (*)(void))pp_submit_priority, METH_FASTCALL | METH_KEYWORDS,
     "submit_with_priority(priority, fn, /, *args, **kwargs)\n--\n\n"
     "Like submit(); among tasks still queued in Go, lower priorities are\n"
     "dispatched first, ties in submission order (submit()'s have priority 0)."},
    {"serve", (PyCFunction)pp_serve, METH_NOARGS,
     "The body of the pool's service thread."},
    {"add_worker", (PyCFunction)pp_add_worker, METH_VARARGS,
     "add_worker(process, task_w, result_r): adopt a started worker and its pipe ends."},
    {"spawn_failed", (PyCFunction)pp_spawn_failed, METH_NOARGS, "Give back a reserved worker start."},
    {"exit_cause", (PyCFunction)pp_exit_cause, METH_VARARGS,
     "exit_cause(pid, text): how worker pid ended, for the broken pool's cause."},
    {"spawn_refused", (PyCFunction)pp_spawn_refused, METH_O,
     "spawn_refused(message): give back a reserved worker start, declined."},
    {"reserve", (PyCFunction)pp_reserve, METH_O, "reserve(n): reserve up to n worker starts."},
    {"shutdown", (PyCFunction)pp_shutdown, METH_O, "shutdown(cancel_futures)"},
    {"break_pool", (PyCFunction)pp_break, METH_NOARGS, "Mark the pool broken."},
    {"wait_done", (PyCFunction)(void (*)(void))pp_wait_done, METH_FASTCALL,
     "wait_done(timeout=None) -> bool"},
    {"counts", (PyCFunction)pp_counts, METH_NOARGS, "A snapshot of the dispatcher."},
    {NULL}};

static PyMemberDef pp_members[] = {
    {"processes", T_OBJECT, offsetof(ProcPoolObject, processes), READONLY,
     "The live worker processes, by pid."},
    {NULL}};

PyTypeObject GfProcPool_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gofutures._gofutures.ProcPool",
    .tp_basicsize = sizeof(ProcPoolObject),
    .tp_dealloc = (destructor)pp_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The Go dispatcher of a ProcessPoolExecutor.",
    .tp_traverse = (traverseproc)pp_traverse,
    .tp_clear = (inquiry)pp_clear,
    .tp_weaklistoffset = offsetof(ProcPoolObject, weakreflist),
    .tp_methods = pp_methods,
    .tp_members = pp_members,
    .tp_new = pp_new,
};
