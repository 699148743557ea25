/* What the files of gofutures.Future share, and nothing else includes:
 *   future.c           the type, its public methods and repr;
 *   future_state.c     the transitions Python code makes (finish, cancel,
 *                      set_running) and the delivery of Go's;
 *   future_protocol.c  the stdlib's private protocol (_state, _condition,
 *                      _waiters, callbacks) and the publishing of a process
 *                      future's state to it;
 *   future_decode.c    the unpickling of a process future's result.
 * Everything here runs with the GIL held. */
#ifndef GOFUTURES_FUTURE_INTERNAL_H
#define GOFUTURES_FUTURE_INTERNAL_H

#include "gofutures.h"

/* The state, from Go unless it is final already (final states change only
 * through the _state setter, gf_future_force, which resets f->final). */
static inline int state_of(FutureObject *f)
{
    if (f->final)
        return f->final;
    int s = gf_fut_state(f->h);
    if (s == ST_FINISHED || s == ST_CANCELLED_AND_NOTIFIED)
        f->final = s;
    return s;
}

/* future_protocol.c */
int gf_future_cond_enter(FutureObject *f);
void gf_future_cond_exit(FutureObject *f, int taken, int notify);
int gf_future_notify_waiters(FutureObject *f, const char *method);
int gf_future_arm(FutureObject *f);
int gf_future_publish(FutureObject *f, int *notify);
void gf_future_log_callback_error(FutureObject *f);
int gf_future_invoke_callbacks(FutureObject *f);
PyObject *gf_future_condition(FutureObject *f);   /* new reference */
extern PyGetSetDef gf_future_getset[];

/* future_decode.c */
void gf_future_end_decode(FutureObject *f);

/* future.c */
PyObject *gf_future_repr(FutureObject *f);

#endif
