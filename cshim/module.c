/* The extension module gofutures._gofutures.
 *
 * Importing it loads the Go runtime (which starts its threads at once), so
 * the Python package imports it only on first use (python/gofutures/_ext.py).
 */
#include "gofutures.h"
#include "fork.h"
#include <pthread.h>
#include <signal.h>

PyObject *gf_CancelledError, *gf_TimeoutError, *gf_InvalidStateError;
PyObject *gf_BrokenThreadPool, *gf_LOGGER, *gf_DoneAndNotDone;
PyObject *gf_state_str[5];
PyObject *gf_FIRST_COMPLETED, *gf_FIRST_EXCEPTION, *gf_ALL_COMPLETED;
PyObject *gf_threading_Condition;
PyTypeObject *GfFuture_Type;

/* Set by the atexit hooks of thread.py and process.py: submit() then
 * raises 'cannot schedule new futures after interpreter shutdown'. */
int gf_interpreter_shutdown;

int gf_mapiter_init(PyObject *base_module);

/* The signal dispositions of the process before the Go runtime started
 * (it starts while the shared object loads, and installs its own handler
 * for SIGSEGV, SIGBUS, SIGFPE, SIGPIPE and SIGURG). A constructor of
 * priority 101 runs before the Go archive's unprioritised one in the same
 * object. go_handler: Go's one signal trampoline, seen at module init. */
static struct sigaction pre_go[NSIG];
static void *go_handler;

__attribute__((constructor(101))) static void save_pre_go_signals(void)
{
    for (int sig = 1; sig < NSIG; sig++)
        if (sigaction(sig, NULL, &pre_go[sig]) != 0)
            pre_go[sig].sa_handler = SIG_DFL;
}

/* Set in a child forked after this module was loaded (see fork.h). An
 * atfork handler may only do async-signal-safe work: it stores a flag and
 * calls sigaction.
 * No Go thread exists in the child, so Go's handler cannot handle a signal
 * there: a segfault would spin in it (needm -> lockextra) instead of killing
 * the process. Every signal still on Go's handler gets back what it had
 * before Go loaded: the child's dispositions are those of a plain CPython's
 * child (SIGPIPE ignored, faulthandler's handlers if it was enabled first). */
volatile int gf_forked;
static void mark_forked_child(void)
{
    gf_forked = 1;
    if (!go_handler)
        return;
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction cur;
        if (sigaction(sig, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
            (void *)cur.sa_sigaction == go_handler)
            sigaction(sig, &pre_go[sig], NULL);
    }
}

/* Go's handler, if Go replaced the pre-Go SIGSEGV disposition (the child
 * handler above compares against it). */
static void note_go_handler(void)
{
    struct sigaction cur;
    if (sigaction(SIGSEGV, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
        (void *)cur.sa_sigaction != (void *)pre_go[SIGSEGV].sa_sigaction)
        go_handler = (void *)cur.sa_sigaction;
}

static PyObject *forked(PyObject *m, PyObject *unused)
{
    return PyBool_FromLong(gf_forked);
}

static PyObject *set_interpreter_shutdown(PyObject *m, PyObject *unused)
{
    gf_interpreter_shutdown = 1;
    Py_RETURN_NONE;
}

static PyObject *debug_counts(PyObject *m, PyObject *unused)
{
    int64_t handles, goroutines;
    if (gf_fork_guard() < 0)
        return NULL;
    gf_debug_counts(&handles, &goroutines);
    return Py_BuildValue("{sLsL}", "handles", (long long)handles, "goroutines", (long long)goroutines);
}

/* onstack(signum, fix): whether signum's handler runs on the alternate
 * signal stack (SA_ONSTACK); with fix, sets the flag first. A handler
 * without it that lands on a Go thread runs on that goroutine's small stack
 * and can corrupt it (Go's cgo docs; seen: "unexpected return pc" under a
 * signal storm). CPython 3.10+ always sets it (bpo-43390); on 3.9
 * signal.signal() does not, so _ext.py calls this after each one. Go
 * already added it to the handlers that existed when it loaded. */
static PyObject *onstack(PyObject *m, PyObject *args)
{
    int sig, fix;
    if (!PyArg_ParseTuple(args, "ip:onstack", &sig, &fix))
        return NULL;
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) != 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    int handled = (sa.sa_flags & SA_SIGINFO) ? 1 :
                  (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
    if (fix && handled && !(sa.sa_flags & SA_ONSTACK)) {
        sa.sa_flags |= SA_ONSTACK;
        if (sigaction(sig, &sa, NULL) != 0)
            return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyBool_FromLong(!handled || (sa.sa_flags & SA_ONSTACK));
}

static PyMethodDef module_methods[] = {
    {"onstack", onstack, METH_VARARGS,
     "onstack(signum, fix)\n--\n\nWhether signum's handler runs on the signal stack; fix sets it."},
    {"wait", (PyCFunction)(void (*)(void))gf_wait, METH_VARARGS | METH_KEYWORDS,
     "wait(fs, timeout=None, return_when=ALL_COMPLETED)\n--\n\n"
     "Wait for the futures in the given sequence to complete."},
    {"as_completed", (PyCFunction)(void (*)(void))gf_as_completed, METH_VARARGS | METH_KEYWORDS,
     "as_completed(fs, timeout=None)\n--\n\n"
     "An iterator over the given futures that yields each as it completes."},
    {"map_submit", (PyCFunction)(void (*)(void))gf_map_submit, METH_FASTCALL,
     "map_submit(submit, fn, iterables, end_time[, buffersize, executor])\n--\n\n"
     "Executor.map's engine (see mapiter.c)."},
    {"set_interpreter_shutdown", set_interpreter_shutdown, METH_NOARGS,
     "Refuse new thread-pool work from now on (interpreter exit)."},
    {"forked", forked, METH_NOARGS,
     "Whether this process was forked after the Go engine was loaded (Go unusable here)."},
    {"debug_counts", debug_counts, METH_NOARGS,
     "Live cgo handles and goroutines, for leak tests."},
    {NULL}};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "gofutures._gofutures",
    "The Go engine of gofutures (one Go runtime, linked into this module).", -1,
    module_methods,
};

static PyObject *attr(PyObject *mod, const char *name)
{
    return PyObject_GetAttrString(mod, name);
}

/* class Future(FutureBase, concurrent.futures.Future): the C methods come
 * first in the MRO; isinstance(f, concurrent.futures.Future) holds. */
static PyTypeObject *make_future_class(PyObject *cf_future)
{
    PyObject *doc = attr(cf_future, "__doc__");
    PyObject *ns = Py_BuildValue("{s()sssssO}", "__slots__", "__module__", "gofutures",
                                 "__qualname__", "Future", "__doc__", doc ? doc : Py_None);
    Py_XDECREF(doc);
    if (!ns)
        return NULL;
    PyObject *cls = PyObject_CallFunction((PyObject *)&PyType_Type, "s(OO)O", "Future",
                                          (PyObject *)&GfFutureBase_Type, cf_future, ns);
    Py_DECREF(ns);
    return (PyTypeObject *)cls;
}

PyMODINIT_FUNC PyInit__gofutures(void)
{
    PyObject *m = NULL, *base = NULL, *thread = NULL, *threading = NULL;
    base = PyImport_ImportModule("concurrent.futures._base");
    thread = PyImport_ImportModule("concurrent.futures.thread");
    threading = PyImport_ImportModule("threading");
    if (!base || !thread || !threading)
        goto fail;
    static const char *const states[5] = {"PENDING", "RUNNING", "CANCELLED",
                                          "CANCELLED_AND_NOTIFIED", "FINISHED"};
    for (int i = 0; i < 5; i++)
        if (!(gf_state_str[i] = attr(base, states[i])))
            goto fail;
    if (!(gf_CancelledError = attr(base, "CancelledError")) ||
        !(gf_TimeoutError = attr(base, "TimeoutError")) ||
        !(gf_InvalidStateError = attr(base, "InvalidStateError")) ||
        !(gf_LOGGER = attr(base, "LOGGER")) ||
        !(gf_DoneAndNotDone = attr(base, "DoneAndNotDoneFutures")) ||
        !(gf_FIRST_COMPLETED = attr(base, "FIRST_COMPLETED")) ||
        !(gf_FIRST_EXCEPTION = attr(base, "FIRST_EXCEPTION")) ||
        !(gf_ALL_COMPLETED = attr(base, "ALL_COMPLETED")) ||
        !(gf_BrokenThreadPool = attr(thread, "BrokenThreadPool")) ||
        !(gf_threading_Condition = attr(threading, "Condition")))
        goto fail;
    if (gf_fork_guard() < 0)   /* loaded before a fork, imported again in the child */
        goto fail;
    note_go_handler();
    if (pthread_atfork(NULL, NULL, mark_forked_child) != 0) {
        PyErr_SetString(PyExc_OSError, "pthread_atfork failed");
        goto fail;
    }
    if (gf_mapiter_init(base) < 0)
        goto fail;
    gf_block_init();

    if (PyType_Ready(&GfFutureBase_Type) < 0 || PyType_Ready(&GfBridge_Type) < 0 ||
        PyType_Ready(&GfAsCompleted_Type) < 0 || PyType_Ready(&GfThreadPool_Type) < 0 ||
        PyType_Ready(&GfMapIter_Type) < 0 || PyType_Ready(&GfProcPool_Type) < 0 ||
        PyType_Ready(&GfCoreMethod_Type) < 0 || gf_coremethod_init() < 0)
        goto fail;
    PyObject *cf_future = attr(base, "Future");
    if (!cf_future)
        goto fail;
    GfFuture_Type = make_future_class(cf_future);
    Py_DECREF(cf_future);
    if (!GfFuture_Type)
        goto fail;

    m = PyModule_Create(&moduledef);
    if (!m)
        goto fail;
    Py_INCREF(&GfFutureBase_Type);
    Py_INCREF(&GfThreadPool_Type);
    Py_INCREF(&GfProcPool_Type);
    Py_INCREF(&GfCoreMethod_Type);
    if (PyModule_AddObject(m, "FutureBase", (PyObject *)&GfFutureBase_Type) < 0 ||
        PyModule_AddObject(m, "Future", Py_NewRef((PyObject *)GfFuture_Type)) < 0 ||
        PyModule_AddObject(m, "ThreadPool", (PyObject *)&GfThreadPool_Type) < 0 ||
        PyModule_AddObject(m, "ProcPool", (PyObject *)&GfProcPool_Type) < 0 ||
        PyModule_AddObject(m, "CoreMethod", (PyObject *)&GfCoreMethod_Type) < 0)
        goto fail;
    Py_DECREF(base);
    Py_DECREF(thread);
    Py_DECREF(threading);
    return m;
fail:
    Py_XDECREF(m);
    Py_XDECREF(base);
    Py_XDECREF(thread);
    Py_XDECREF(threading);
    return NULL;
}
