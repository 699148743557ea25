//go:build !amd64

package stats

func rdtsc() int64 { return nanotime() }

func tscAvailable() bool { return false }
