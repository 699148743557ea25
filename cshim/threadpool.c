/* ThreadPool: the C half of gofutures.ThreadPoolExecutor.
 *
 * The queue, the worker count and the idle-worker wake-ups are Go
 * (core.ThreadPool behind self->ph). A queued task is a Future object that
 * carries its own call (fn, args, kwargs); the queue owns one reference to
 * it, passed to Go as a plain word and taken back by the worker that pops
 * it.
 *
 * Worker threads are ordinary threading.Thread objects (so names,
 * threading.local, current_thread() and joins behave as in the stdlib);
 * their whole life after the initializer is run_worker(): a loop in C that
 * takes tasks from Go, keeps the GIL across consecutive ready tasks, and
 * blocks in Go with the GIL released when the queue is empty. The thread
 * keeps its one Python thread state throughout.
 */
#include "gofutures.h"
#include "fork.h"

typedef struct {
    PyObject_HEAD
    uintptr_t ph;          /* core.ThreadPool handle, owned */
    PyObject *spawn;       /* spawn(pool): starts one worker thread */
    PyObject *weakreflist;
    GfGate gate;           /* backpressure (gate.c); gate.h 0: none */
    int copy_context;      /* context="copy": each task runs in a copy of its submitter's */
} PoolObject;

static const char BROKEN_MSG[] =
    "A thread initializer failed, the thread pool is not usable anymore";

/* gf_interpreter_shutdown (module.c) is set by the atexit hook: submit()
 * then refuses new work. */

/* Between consecutive tasks, after this long (Python's switch interval),
 * the worker passes through a switch point: a call of an empty Python
 * function, whose first instruction checks the eval breaker. A thread that
 * waits for the GIL has asked for it there (gil_drop_request), and the
 * interpreter hands it over fairly. So a stream of tasks that are C calls,
 * which never reach the eval loop, cannot starve other threads.
 *
 * A bare release and retake (Py_BEGIN/END_ALLOW_THREADS) does NOT do this:
 * the worker takes the GIL back before the woken waiter runs, and each such
 * switch resets the waiter's interval, so it never asks for the GIL and
 * starves (seen: a forking main thread stuck while a worker ran tasks). */
static int64_t switch_ns = 5 * 1000 * 1000;
static PyObject *switch_point;   /* lambda: None */

static int make_switch_point(void)
{
    if (switch_point)
        return 0;
    PyObject *code = Py_CompileString("lambda: None", "<gofutures switch point>", Py_eval_input);
    PyObject *globals = code ? PyDict_New() : NULL;
    if (globals && PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) == 0)
        switch_point = PyEval_EvalCode(code, globals, globals);
    Py_XDECREF(globals);
    Py_XDECREF(code);
    return switch_point ? 0 : -1;
}

static PyObject *pool_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *names[] = {"max_workers", "spawn", "copy_context", NULL};
    Py_ssize_t max;
    PyObject *spawn;
    int copy_context = 0;   /* validated by thread.py (context=None or "copy") */
    if (!PyArg_ParseTupleAndKeywords(args, kw, "nO|p:ThreadPool", names, &max, &spawn,
                                     &copy_context))
        return NULL;
    if (gf_fork_guard() < 0 || make_switch_point() < 0)
        return NULL;
    PoolObject *p = (PoolObject *)type->tp_alloc(type, 0);
    if (!p)
        return NULL;
    p->ph = gf_tpool_new(max);
    p->spawn = Py_NewRef(spawn);
    p->copy_context = copy_context;
    double si = 0;
    PyObject *sys_si = PySys_GetObject("getswitchinterval");   /* borrowed */
    PyObject *v = sys_si ? PyObject_CallNoArgs(sys_si) : NULL;
    if (v && (si = PyFloat_AsDouble(v)) > 0)
        switch_ns = (int64_t)(si * 1e9);
    Py_XDECREF(v);
    PyErr_Clear();
    return (PyObject *)p;
}

/* What release_tasks does with the futures it takes back from the queue. */
enum { RELEASE_DROP, RELEASE_CANCEL, RELEASE_BREAK };

static void release_tasks(uintptr_t *ts, int64_t n, int how)
{
    for (int64_t i = 0; i < n; i++) {
        FutureObject *f = (FutureObject *)ts[i];   /* the queue's reference */
        Py_CLEAR(f->fn);
        Py_CLEAR(f->args);
        Py_CLEAR(f->kwargs);
        Py_CLEAR(f->ctx);   /* never entered: the future's copy goes with the call */
        int rc = 0;
        if (how == RELEASE_CANCEL) {
            /* shutdown(cancel_futures=True): cancelled and notified at once,
             * so wait()/as_completed() count it done (a fix: the stdlib
             * leaves it CANCELLED, and a wait without a timeout hangs). */
            rc = gf_future_cancel(f);
            if (rc == 1)   /* cancelled (gf_future_cancel: 1, or 0 if it was running) */
                rc = gf_future_set_running(f) < 0 ? -1 : 0;
        } else if (how == RELEASE_BREAK) {
            PyObject *e = PyObject_CallFunction(gf_BrokenThreadPool, "s", BROKEN_MSG);
            rc = e ? gf_future_finish(f, NULL, e) : -1;
            Py_XDECREF(e);
        }
        if (rc < 0)
            gf_log_current_exception("exception releasing %r", (PyObject *)f);
        Py_DECREF(f);
    }
    free(ts);
}

static int pool_traverse(PoolObject *p, visitproc visit, void *arg)
{
    Py_VISIT(p->spawn);
    Py_VISIT(p->gate.timeout);   /* pending_timeout as given: any object */
    return 0;
}

static int pool_clear(PoolObject *p)
{
    Py_CLEAR(p->spawn);
    Py_CLEAR(p->gate.timeout);
    return 0;
}

static void pool_dealloc(PoolObject *p)
{
    PyObject_GC_UnTrack(p);
    if (p->weakreflist)
        PyObject_ClearWeakRefs((PyObject *)p);
    pool_clear(p);
    gf_gate_clear(&p->gate);
    if (p->ph && !gf_forked) {
        /* No worker holds us any more; drop whatever is still queued. */
        int64_t n;
        uintptr_t *ts = gf_tpool_shutdown(p->ph, 1, &n);
        release_tasks(ts, n, RELEASE_CANCEL);
        gf_tpool_free(p->ph);
        p->ph = 0;
    }
    Py_TYPE(p)->tp_free((PyObject *)p);
}

static PyObject *submit_task(PoolObject *p, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames, int64_t prio);

static PyObject *pool_submit(PoolObject *p, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError,
#if PY_VERSION_HEX >= 0x030A0000
                        "ThreadPoolExecutor.submit() missing 1 required positional argument: 'fn'"
#else
                        "submit() missing 1 required positional argument: 'fn'"
#endif
        );
        return NULL;
    }
    return submit_task(p, args, nargs, kwnames, 0);
}

/* submit_with_priority(priority, fn, /, *args, **kwargs): the priority
 * comes before fn, positionally, like submit_with_timeout's timeout, so it
 * never collides with a keyword argument of fn's own. Bad input submits
 * nothing. */
static PyObject *pool_submit_priority(PoolObject *p, PyObject *const *args, Py_ssize_t nargs,
                                      PyObject *kwnames)
{
    int64_t prio;
    if (gf_priority_arg(args, nargs, &prio) < 0)
        return NULL;
    return submit_task(p, args + 1, nargs - 1, kwnames, prio);
}

/* submit's body; args[0] is fn. */
static PyObject *submit_task(PoolObject *p, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames, int64_t prio)
{
    if (gf_fork_guard() < 0)
        return NULL;
    if (gf_interpreter_shutdown) {
        int64_t q, w, i, flags;
        gf_tpool_counts(p->ph, &q, &w, &i, &flags);
        if (!(flags & (GF_FLAG_SHUTDOWN | GF_FLAG_BROKEN))) {
            PyErr_SetString(PyExc_RuntimeError,
                            "cannot schedule new futures after interpreter shutdown");
            return NULL;
        }
    }
    if (gf_gate_enter(&p->gate) < 0)   /* may wait for room (max_pending) */
        return NULL;
    FutureObject *f = gf_future_alloc();
    if (!f) {
        gf_gate_leave(&p->gate);
        return NULL;
    }
    /* context="copy": a copy of the submitting thread's current context,
     * taken now (not when a worker pops the task), owned by the future
     * like fn. From here every path gives it back with the call: run_task
     * (run or found cancelled), release_tasks (shutdown(cancel_futures),
     * a broken pool, the pool's dealloc), or the future's own dealloc
     * (future_clear) when the task was never queued (fail below). */
    if (p->copy_context && !(f->ctx = PyContext_CopyCurrent()))
        goto fail;
    f->fn = Py_NewRef(args[0]);
    f->args = gf_tuple_from(args + 1, nargs - 1);
    if (!f->args || gf_kwargs_dict(args, nargs, kwnames, &f->kwargs) < 0)
        goto fail;
    Py_INCREF(f);   /* the queue's reference, handed to Go as a word */
    int rc = prio ? gf_tpool_submit_prio(p->ph, (uintptr_t)f, f->h, prio)
                  : gf_tpool_submit(p->ph, (uintptr_t)f, f->h);
    if (rc < 0) {
        Py_DECREF(f);
        if (rc == GF_SUBMIT_BROKEN)
            PyErr_SetString(gf_BrokenThreadPool, BROKEN_MSG);
        else
            PyErr_SetString(PyExc_RuntimeError, "cannot schedule new futures after shutdown");
        goto fail;
    }
    /* Queued: the slot is the future's (a worker may have run it already;
     * then it goes back at once). */
    gf_gate_attach(&p->gate, f->h);
    if (rc == GF_SUBMIT_SPAWN) {
        PyObject *r = PyObject_CallOneArg(p->spawn, (PyObject *)p);
        if (!r) {
            gf_tpool_spawn_failed(p->ph);
            Py_DECREF(f);   /* the task stays queued (with its slot), as in the stdlib */
            return NULL;
        }
        Py_DECREF(r);
    }
    return (PyObject *)f;
fail:
    gf_gate_leave(&p->gate);
    Py_DECREF(f);
    return NULL;
}

/* Runs one task; steals the queue's reference to f. Returns how it ended
 * (GF_TASK_*, abi.h), reported to Go with the worker's next pop for the
 * statistics: no extra call into Go per task. */
static int run_task(FutureObject *f)
{
    int outcome = GF_TASK_FAILED;
    int r = gf_future_set_running(f);
    /* The worker takes the future's references to the call (and context). */
    PyObject *fn = f->fn, *args = f->args, *kw = f->kwargs, *ctx = f->ctx;
    f->fn = f->args = f->kwargs = f->ctx = NULL;
    if (r == 1) {
        /* context="copy": the call, and only the call, runs in the task's
         * own copy (done-callbacks run after the exit, in the worker's
         * context, as with the stdlib and a ctx.run wrapper). The copy is
         * this task's alone (nothing else holds it), so it is never entered
         * elsewhere and the enter cannot fail; if it did, the call would
         * fail with its RuntimeError. */
        PyObject *res = NULL;
        if (!ctx || PyContext_Enter(ctx) == 0) {
            res = PyObject_Call(fn, args, kw);
            if (ctx) {
                PyObject *t, *v, *tb;
                PyErr_Fetch(&t, &v, &tb);   /* the call's error, kept over the exit */
                if (PyContext_Exit(ctx) < 0)
                    gf_log_current_exception("Exception leaving the task's context in %r",
                                             (PyObject *)f);
                PyErr_Restore(t, v, tb);
            }
        }
        int rc;
        if (res) {
            outcome = GF_TASK_OK;
            rc = gf_future_finish(f, res, NULL);
            Py_DECREF(res);
        } else {
            /* A task's BaseException becomes the future's exception, with
             * its traceback, as in the stdlib. */
            PyObject *t, *v, *tb;
            PyErr_Fetch(&t, &v, &tb);
            PyErr_NormalizeException(&t, &v, &tb);
            if (tb && v)
                PyException_SetTraceback(v, tb);
            rc = gf_future_finish(f, NULL, v ? v : Py_None);
            Py_XDECREF(t);
            Py_XDECREF(v);
            Py_XDECREF(tb);
        }
        if (rc < 0)
            gf_log_current_exception("Exception in worker", Py_None);
    } else if (r < 0) {
        gf_log_current_exception("Exception in worker", Py_None);
    } else {
        outcome = GF_TASK_CANCELLED;
    }
    Py_XDECREF(fn);
    Py_XDECREF(args);
    Py_XDECREF(kw);
    Py_XDECREF(ctx);   /* exited above, or never entered (cancelled, failed enter) */
    Py_DECREF(f);
    return outcome;
}

static PyObject *pool_run_worker(PoolObject *p, PyObject *unused)
{
    if (gf_fork_guard() < 0)
        return NULL;
    uintptr_t ph = p->ph;
    /* Idle, the worker parks on its own semaphore, which a submit posts
     * (core/park.go); it lives until the worker leaves the pool. */
    sem_t sem;
    if (sem_init(&sem, 0, 0) != 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    uintptr_t wh = gf_tpool_worker_new_token(ph, (uintptr_t)&sem);
    int64_t held_since = gf_now_ns();
    int prev = GF_TASK_NONE;   /* the last task's outcome, not yet reported */
    for (;;) {
        /* Consecutive ready tasks run without giving the GIL back; with
         * none, this worker is idle before the GIL is released. */
        uintptr_t t;
        int st = gf_tpool_next_or_park(ph, wh, prev, &t);
        prev = GF_TASK_NONE;
        if (st == GF_NEXT_PARKED) {
            do {
                Py_BEGIN_ALLOW_THREADS
                gf_sem_wait(&sem, -1);   /* until a submit, shutdown or exit */
                Py_END_ALLOW_THREADS
            } while ((st = gf_tpool_next_or_park(ph, wh, GF_TASK_NONE, &t)) == GF_NEXT_PARKED);
            held_since = gf_now_ns();
            if (st == GF_NEXT_EXIT)
                break;
        } else if (st == GF_NEXT_EXIT) {
            break;
        } else if (gf_now_ns() - held_since > switch_ns) {
            PyObject *r = PyObject_CallNoArgs(switch_point);   /* may hand the GIL over */
            if (r)
                Py_DECREF(r);
            else
                PyErr_Clear();
            held_since = gf_now_ns();
        }
        prev = run_task((FutureObject *)t);
        if (st == GF_NEXT_CANCELLED)
            prev = GF_TASK_NONE;   /* cancelled in the queue: counted when cancel() ran */
    }
    gf_tpool_worker_free(wh);   /* not idle any more: nothing posts sem */
    sem_destroy(&sem);
    Py_RETURN_NONE;
}

static PyObject *pool_initializer_failed(PoolObject *p, PyObject *unused)
{
    if (gf_fork_guard() < 0)
        return NULL;
    int64_t n;
    uintptr_t *ts = gf_tpool_break(p->ph, &n);
    gf_tpool_worker_exited(p->ph);
    release_tasks(ts, n, RELEASE_BREAK);
    Py_RETURN_NONE;
}

static PyObject *pool_shutdown(PoolObject *p, PyObject *cancel)
{
    int c = PyObject_IsTrue(cancel);
    if (c < 0)
        return NULL;
    if (gf_forked)   /* a pool from before fork(): no worker of it exists here */
        Py_RETURN_NONE;
    int64_t n;
    uintptr_t *ts = gf_tpool_shutdown(p->ph, c, &n);
    release_tasks(ts, n, RELEASE_CANCEL);
    Py_RETURN_NONE;
}

static PyObject *pool_exit(PoolObject *p, PyObject *unused)
{
    if (gf_forked)
        Py_RETURN_NONE;
    gf_tpool_exit(p->ph);
    Py_RETURN_NONE;
}

static PyObject *pool_counts(PoolObject *p, PyObject *unused)
{
    if (gf_fork_guard() < 0)
        return NULL;
    int64_t q, w, i, flags;
    gf_tpool_counts(p->ph, &q, &w, &i, &flags);
    return Py_BuildValue("{sLsLsLsOsO}", "queued", (long long)q, "workers", (long long)w,
                         "idle", (long long)i, "shutdown", (flags & GF_FLAG_SHUTDOWN) ? Py_True : Py_False,
                         "broken", (flags & GF_FLAG_BROKEN) ? Py_True : Py_False);
}

static PyObject *pool_stats_id(PoolObject *p, PyObject *unused)
{
    if (gf_fork_guard() < 0)   /* a pool from before fork(): Go may hang here */
        return NULL;
    return PyLong_FromLongLong(gf_tpool_stats_id(p->ph));
}

static PyObject *pool_set_gate(PoolObject *p, PyObject *args)
{
    return gf_gate_setup(&p->gate, args);
}

static PyMethodDef pool_methods[] = {
    {"submit", (PyCFunction)(void (*)(void))pool_submit, METH_FASTCALL | METH_KEYWORDS,
     "submit(fn, /, *args, **kwargs)\n--\n\nSchedules fn(*args, **kwargs) and returns a Future."},
    {"submit_with_priority", (PyCFunction)(void (*)(void))pool_submit_priority, METH_FASTCALL | METH_KEYWORDS,
     "submit_with_priority(priority, fn, /, *args, **kwargs)\n--\n\n"
     "Like submit(); among queued tasks, lower priorities run first, ties in\n"
     "submission order (submit()'s tasks have priority 0)."},
    {"run_worker", (PyCFunction)pool_run_worker, METH_NOARGS,
     "The body of a worker thread: runs tasks until the pool shuts down."},
    {"initializer_failed", (PyCFunction)pool_initializer_failed, METH_NOARGS,
     "Breaks the pool: queued futures fail with BrokenThreadPool."},
    {"shutdown", (PyCFunction)pool_shutdown, METH_O,
     "shutdown(cancel_futures): refuse new work; wake idle workers so they exit."},
    {"exit", (PyCFunction)pool_exit, METH_NOARGS,
     "Interpreter exit: workers leave once the queue is empty."},
    {"counts", (PyCFunction)pool_counts, METH_NOARGS, "A snapshot of the scheduler."},
    {"set_gate", (PyCFunction)pool_set_gate, METH_VARARGS,
     "set_gate(max_pending, pending_timeout): backpressure on submit (gate.c)."},
    {"stats_id", (PyCFunction)pool_stats_id, METH_NOARGS,
     "The pool's id in the statistics registry (gofutures._stats)."},
    {NULL}};

PyTypeObject GfThreadPool_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "gofutures._gofutures.ThreadPool",
    .tp_basicsize = sizeof(PoolObject),
    .tp_dealloc = (destructor)pool_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The Go-scheduled core of a ThreadPoolExecutor.",
    .tp_traverse = (traverseproc)pool_traverse,
    .tp_clear = (inquiry)pool_clear,
    .tp_weaklistoffset = offsetof(PoolObject, weakreflist),
    .tp_methods = pool_methods,
    .tp_new = pool_new,
};
