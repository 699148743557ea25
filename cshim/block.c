/* Blocking with the GIL released, interruptibly: gf_block (a Go wait),
 * gf_block_token and gf_sem_wait (parking on a semaphore of the thread's
 * own that Go posts, core/park.go), and the timeouts they take
 * (gf_parse_timeout, gf_now_ns).
 *
 * A blocking call into Go is made with the GIL released. Go knows nothing of
 * Python's signal handlers, so the main thread blocks in slices and runs
 * PyErr_CheckSignals between them: Ctrl-C raises KeyboardInterrupt within
 * one slice. Other threads never receive Python signals and block without
 * slicing.
 */
#include "gofutures.h"
#include <errno.h>
#include <math.h>
#include <semaphore.h>
#include <time.h>

#define SLICE_NS (20 * 1000 * 1000)   /* 20 ms */

static unsigned long main_thread_ident;

void gf_block_init(void)
{
    /* The module is imported by whichever thread first uses gofutures; ask
     * threading which thread is the main one. */
    PyObject *threading = PyImport_ImportModule("threading");
    PyObject *mt = threading ? PyObject_CallMethod(threading, "main_thread", NULL) : NULL;
    PyObject *ident = mt ? PyObject_GetAttrString(mt, "ident") : NULL;
    if (ident)
        main_thread_ident = PyLong_AsUnsignedLong(ident);
    else
        main_thread_ident = PyThread_get_thread_ident();
    PyErr_Clear();
    Py_XDECREF(ident);
    Py_XDECREF(mt);
    Py_XDECREF(threading);
}

int64_t gf_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Parses a timeout the way threading.Condition.wait(timeout) treats it, as
 * the stdlib's futures do: None waits forever (*ns = GF_NO_TIMEOUT); a value
 * that is not > 0 (zero, negative, NaN) only polls (*ns = 0); a value too
 * large for a lock (inf included) raises the lock's OverflowError; a value that cannot be compared
 * with 0 raises TypeError. Returns 0, or -1 with an exception set. */
int gf_parse_timeout(PyObject *timeout, int64_t *ns)
{
    if (timeout == NULL || timeout == Py_None) {
        *ns = GF_NO_TIMEOUT;
        return 0;
    }
    PyObject *zero = PyLong_FromLong(0);
    if (!zero)
        return -1;
    int positive = PyObject_RichCompareBool(timeout, zero, Py_GT);
    Py_DECREF(zero);
    if (positive < 0)
        return -1;
    if (!positive) {
        *ns = 0;
        return 0;
    }
    double secs = PyFloat_AsDouble(timeout);
    if (secs == -1.0 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError))   /* an int beyond a double */
            goto overflow;
        return -1;
    }
    /* The lock's own check (_PyTime_FromSecondsObject): the timeout in ns
     * must fit an int64, with the interpreter's message. inf lands here. */
    if (!(secs * 1e9 < 9223372036854775808.0))
        goto overflow;
    double n = secs * 1e9;
    *ns = n >= 9.0e18 ? GF_NO_TIMEOUT : (int64_t)n;
    if (*ns == 0)
        *ns = 1;
    return 0;
overflow:
    /* The interpreter's messages, which depend on the version and on
     * whether the timeout is an int. */
    PyErr_Clear();
#if PY_VERSION_HEX >= 0x030E0000
    /* 3.14+: one message for ints and floats alike */
    PyErr_SetString(PyExc_OverflowError, "timestamp out of range for C PyTime_t");
    return -1;
#endif
    PyErr_SetString(PyExc_OverflowError, PyLong_Check(timeout) ?
#if PY_VERSION_HEX >= 0x030D0000
                    "timestamp too large to convert to C PyTime_t"
#else
                    "timestamp too large to convert to C _PyTime_t"
#endif
                    :
#if PY_VERSION_HEX >= 0x030B0000
                    "timestamp out of range for platform time_t"
#else
                    "timestamp too large to convert to C _PyTime_t"
#endif
    );
    return -1;
}

/* Calls fn(h, slice) with the GIL released until it returns non-zero or the
 * timeout (ns; GF_NO_TIMEOUT for none, 0 to poll) passes. Returns 1 when fn
 * reported done, 0 on timeout, -1 with an exception set (a signal handler
 * raised, e.g. KeyboardInterrupt). */
int gf_block(gf_wait_fn fn, uintptr_t h, int64_t timeout_ns)
{
    if (timeout_ns == 0)
        return fn(h, 0);
    int is_main = PyThread_get_thread_ident() == main_thread_ident;
    int64_t deadline = timeout_ns < 0 ? -1 : gf_now_ns() + timeout_ns;
    for (;;) {
        int64_t slice = is_main ? SLICE_NS : GF_NO_TIMEOUT;
        if (deadline >= 0) {
            int64_t rem = deadline - gf_now_ns();
            if (rem <= 0)
                return fn(h, 0);
            if (slice < 0 || rem < slice)
                slice = rem;
        }
        int r;
        Py_BEGIN_ALLOW_THREADS
        r = fn(h, slice);
        Py_END_ALLOW_THREADS
        if (r)
            return 1;
        if (is_main && PyErr_CheckSignals() < 0)
            return -1;
    }
}

/* Waits on sem until it is posted or ns pass (< 0: no limit); 1 posted,
 * 0 timed out. Called with the GIL released. */
int gf_sem_wait(sem_t *sem, int64_t ns)
{
    int rc;
    if (ns > 86400 * (int64_t)1000000000)
        ns = 86400 * (int64_t)1000000000;   /* a day at most (no overflow): callers loop */
    if (ns < 0) {
        while ((rc = sem_wait(sem)) != 0 && errno == EINTR)
            ;
        return rc == 0;
    }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
    int64_t until = gf_now_ns() + ns;
    struct timespec ts = {until / 1000000000, until % 1000000000};
    while ((rc = sem_clockwait(sem, CLOCK_MONOTONIC, &ts)) != 0 && errno == EINTR)
        ;
#else
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t until = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + ns;
    ts.tv_sec = until / 1000000000;
    ts.tv_nsec = until % 1000000000;
    while ((rc = sem_timedwait(sem, &ts)) != 0 && errno == EINTR)
        ;
#endif
    return rc == 0;
}

/* gf_block for a wait that parks outside Go (core/park.go): add(h, token)
 * registers a semaphore of this thread's stack with the Go object h (0: the
 * object is done already, nothing registered); Go posts it once and forgets
 * it; remove(h, token) unregisters it, after which Go no longer touches it.
 * The main thread waits in slices and runs signal handlers between them, as
 * in gf_block. The token is unregistered before the GIL is taken back: at
 * interpreter exit a daemon thread may be ended right there, its stack gone.
 * Returns 1 posted (or done already), 0 on timeout, -1 with an exception
 * set. */
int gf_block_token(uintptr_t h, gf_token_fn add, gf_untoken_fn remove, int64_t timeout_ns)
{
    sem_t sem;
    if (sem_init(&sem, 0, 0) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    uintptr_t tok = (uintptr_t)&sem;
    int is_main = PyThread_get_thread_ident() == main_thread_ident;
    int64_t deadline = timeout_ns < 0 ? -1 : gf_now_ns() + timeout_ns;
    int r;
    for (;;) {
        int64_t slice = is_main ? SLICE_NS : -1;
        if (deadline >= 0) {
            int64_t rem = deadline - gf_now_ns();
            if (rem <= 0) {
                r = 0;
                break;
            }
            if (slice < 0 || rem < slice)
                slice = rem;
        }
        if (!add(h, tok)) {   /* done already (or since the last slice) */
            r = 1;
            break;
        }
        int posted;
        Py_BEGIN_ALLOW_THREADS
        posted = gf_sem_wait(&sem, slice);
        if (!posted)
            remove(h, tok);   /* a post racing this leaves a count: the object is done */
        Py_END_ALLOW_THREADS
        if (posted) {
            r = 1;
            break;
        }
        if (is_main && PyErr_CheckSignals() < 0) {
            r = -1;
            break;
        }
    }
    sem_destroy(&sem);
    return r;
}
