package stats

import (
	"math"
	"os"
	"sync"
	"time"
	_ "unsafe" // go:linkname
)

// The hot path takes two timestamps per task. runtime.nanotime (the vDSO
// clock) costs several times the CPU's time-stamp counter; so where
// the kernel itself keeps time with the TSC (it then found it invariant and
// synchronised across CPUs) timestamps are TSC ticks, converted to
// nanoseconds only when a snapshot is read. Elsewhere they are nanotime.

//go:linkname nanotime runtime.nanotime
func nanotime() int64

var (
	useTSC         = tscAvailable() && kernelClockIsTSC()
	tsc0, nano0    = ticks(), nanotime() // calibration origin
	calMu          sync.Mutex
	nsPerTickCache float64
	nsPerTickAt    int64 // nanotime of the cached calibration
)

func ticks() int64 {
	if useTSC {
		return rdtsc()
	}
	return nanotime()
}

// Now returns a timestamp for the Submitted/Started/Finished hooks: TSC
// ticks or nanoseconds (see nsPerTick).
func Now() int64 { return ticks() }

func kernelClockIsTSC() bool {
	b, err := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource")
	return err == nil && string(b) == "tsc\n"
}

// nsPerTick converts timestamps to nanoseconds, measured against nanotime
// over the life of the process (at least 10 ms: an earlier first reader
// waits for it). Recomputed at most once a second.
func nsPerTick() float64 {
	if !useTSC {
		return 1
	}
	calMu.Lock()
	defer calMu.Unlock()
	n := nanotime()
	if nsPerTickCache != 0 && n-nsPerTickAt < int64(time.Second) {
		return nsPerTickCache
	}
	if d := 10*int64(time.Millisecond) - (n - nano0); d > 0 {
		time.Sleep(time.Duration(d))
	}
	t, n := ticks(), nanotime()
	if t <= tsc0 {
		return 1 // cannot happen with an invariant TSC
	}
	nsPerTickCache, nsPerTickAt = float64(n-nano0)/float64(t-tsc0), n
	return nsPerTickCache
}

// toNs converts a duration in ticks.
func toNs(v int64, k float64) int64 {
	if k == 1 {
		return v
	}
	return int64(math.Round(float64(v) * k))
}
