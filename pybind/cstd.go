package main

// The C standard of every cgo preamble of this package, the same as the C
// shim's (setup.py compiles cshim/ with -std=gnu11): compilers that
// default to C23 (GCC 15 and later) would otherwise compile them as C23.
// `go build` puts a package's #cgo CFLAGS after $CGO_CFLAGS, so this one
// holds whatever the environment gives.

// #cgo CFLAGS: -std=gnu11
import "C"
