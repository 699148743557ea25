/* Constants of the C ABI between pybind (Go) and the C shim, defined once:
 * pybind's cgo preambles include this header, and so does gofutures.h. */
#ifndef GOFUTURES_ABI_H
#define GOFUTURES_ABI_H

/* gf_fut_add_listener's result bits. */
#define GF_LISTEN_DONE 1    /* the future is done (run a late callback now) */
#define GF_LISTEN_STORED 2  /* the owner word was stored: Go holds a reference */

#endif
