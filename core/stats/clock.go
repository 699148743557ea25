package stats

import (
	_ "unsafe" // go:linkname
)

// nanotime is the runtime's monotonic clock: one vDSO read, where
// time.Now() makes two (wall and monotonic).
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// Now returns a monotonic timestamp in nanoseconds, for the Enqueued,
// Started and Finished hooks.
func Now() int64 { return nanotime() }
