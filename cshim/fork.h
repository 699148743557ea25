/* Fork safety of the C shim.
 *
 * The Go runtime's threads do not survive fork(): in a child forked after
 * this extension was loaded, any call into Go may hang for ever. module.c
 * sets gf_forked in such a child (pthread_atfork, so every fork counts:
 * os.fork, multiprocessing, C code), before any Python code runs there.
 * From then on:
 *  - every C entry point that would call Go checks gf_fork_guard() first
 *    and raises RuntimeError instead (objects made before the fork);
 *  - deallocation and shutdown skip their Go calls (the Go objects are
 *    unreachable garbage in the child; nothing is left to stop);
 *  - gofutures.Future() returns a concurrent.futures.Future.
 * The Python package switches to the stdlib's implementation in the same
 * child (python/gofutures/_fork.py), so new pools, wait and as_completed
 * work there without Go.
 */
#ifndef GOFUTURES_FORK_H
#define GOFUTURES_FORK_H

#include <Python.h>

extern volatile int gf_forked;   /* defined in module.c */

/* 0 in the process that loaded Go; -1 with RuntimeError set in a forked
 * child. */
static inline int gf_fork_guard(void)
{
    if (!gf_forked)
        return 0;
    PyErr_SetString(PyExc_RuntimeError,
                    "this gofutures object was created before os.fork() and cannot be used "
                    "in the child process (the Go engine does not survive fork); "
                    "create a new one in the child");
    return -1;
}

#endif
