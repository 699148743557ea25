package main

/*
#include <stdint.h>
*/
import "C"

// gf_tpool_stats_id returns the id under which the pool's statistics are
// registered (core/stats), for the Python side to read them by.
//
//export gf_tpool_stats_id
func gf_tpool_stats_id(ph C.uintptr_t) C.int64_t { return C.int64_t(pool(ph).Stats().ID()) }
